"""The ERP's exception tree; the CLI maps it to exit codes (`opskit.exitcodes`), the API to HTTP statuses.

    OpsError (opskit.errors)      the root of every expected error of erpops, tools' errors included
    └── ErpError                  exit 1
    ├── NotFound                  HTTP 404   a referenced record does not exist
    ├── ValidationFailed          HTTP 422   input is well-formed but breaks a rule (negative qty, unknown item)
    │   ├── InvalidInput          HTTP 422   a query a read refuses before any work (bad period): exit 2
    │   └── TaxDataInvalid        HTTP 422   a business rule found tax data errors (details name the rule)
    ├── Conflict                  HTTP 409   the state of the data refuses the action
    │   ├── InsufficientStock     HTTP 409   not enough free stock to reserve or ship
    │   ├── InvalidTransition     HTTP 409   document status does not allow the action
    │   ├── CreditLimitExceeded   HTTP 409   the order would take the customer past its credit limit
    │   ├── PeriodClosed          HTTP 409   a posting dated in a closed fiscal period
    │   ├── RuleBlocked           HTTP 409   a business rule (budget, price, credit, approval) refused the write
    │   ├── SegregationOfDuties   HTTP 409   the actor may not do this to a document they entered
    │   └── IdempotencyMismatch   HTTP 422   an Idempotency-Key reused with another request body
    ├── Unauthorized              HTTP 401   no or unknown bearer token
    ├── Forbidden                 HTTP 403   the token's role may not do this
    ├── IntegrityViolation        exit 1     `erpops check` found broken invariants
    └── ConfigError               exit 2     the configuration cannot be used
"""

from __future__ import annotations

from opskit.errors import OpsError
from opskit.exitcodes import ExitCode


class ErpError(OpsError):
    """Root of the ERP's expected errors; anything else is a bug and keeps its traceback."""

    status_code = 500


class NotFound(ErpError):
    status_code = 404
    code = "not_found"


class ValidationFailed(ErpError):
    status_code = 422
    code = "validation_failed"


class InvalidInput(ValidationFailed):
    """Arguments a read refuses before doing anything (a bad period, bad ageing buckets): a usage error."""

    exit_code = ExitCode.USAGE
    code = "invalid_input"


class Conflict(ErpError):
    status_code = 409
    code = "conflict"


class InsufficientStock(Conflict):
    code = "insufficient_stock"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class CreditLimitExceeded(Conflict):
    code = "credit_limit_exceeded"


class PeriodClosed(Conflict):
    code = "period_closed"


class IdempotencyMismatch(ErpError):
    status_code = 422
    code = "idempotency_key_reused"


class Unauthorized(ErpError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ErpError):
    status_code = 403
    code = "forbidden"


class IntegrityViolation(ErpError):
    code = "integrity_violation"


class ConfigError(ErpError):
    exit_code = ExitCode.USAGE
    code = "config_error"


class RuleBlocked(Conflict):
    """A configured business rule refused the write; `details["rule"]` names it."""

    code = "rule_blocked"


class SegregationOfDuties(Conflict):
    code = "segregation_of_duties"


class TaxDataInvalid(ValidationFailed):
    code = "tax_data_invalid"
