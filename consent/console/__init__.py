"""The operator staff's console (issue 15): what the people who work for an operator read and do
in Propusk's own pages — the organisation's templates, requests, withdrawal feed with
acknowledgements, destruction tasks and transfer statistics. Queries live in ``repository``;
``service`` holds the rules and calls the same service functions as the operator client's API
(``templates.publish_template``, ``destruction.confirm_destruction``,
``obligations.defer_destruction``)."""
