// The biometrics and exams sections of the cabinet (listens to the propusk:subject event).
"use strict";
