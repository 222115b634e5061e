"""Request and response bodies of the policy API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class RuleIn(BaseModel):
    role: str = Field(max_length=64, examples=["teacher"])
    domain: str = Field(max_length=100, examples=["school:*"])
    object: str = Field(max_length=64, examples=["roster"])
    action: str = Field(max_length=32, examples=["read"])
    condition: str = Field(default="any", max_length=32)


class RuleOut(BaseModel):
    id: uuid.UUID | None
    source: Literal["file", "db"]
    role: str
    domain: str
    object: str
    action: str
    condition: str


class PolicyOut(BaseModel):
    version: int
    model: str
    rules: list[RuleOut]
    role_links: int


class RoleGrantIn(BaseModel):
    subject: str = Field(max_length=200, examples=["person:5f0c..."])
    role: str = Field(max_length=64)
    domain: str = Field(max_length=100)


class RoleLinkOut(BaseModel):
    role: str
    domain: str
    source: str


class ChangeOut(BaseModel):
    version: int
    kind: str
    actor: str
    subject: str | None
    detail: dict[str, Any]
    changed_at: datetime


class VersionOut(BaseModel):
    version: int


class ExplainRule(BaseModel):
    role: str
    domain: str
    object: str
    action: str
    condition: str
    source: str | None


class ExplainOut(BaseModel):
    allowed: bool
    subject: str
    domain: str
    object: str
    action: str
    permission: str
    matched_domain: str | None
    rule: ExplainRule | None
    via: str | None
    tried_domains: list[str]
    policy_version: int
