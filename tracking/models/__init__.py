from .access import AccountMail, PersonSetting, Role, RoleAssignment
from .accountability import DeadlineRevision, OutcomeQuestion, Verification, VerificationState
from .evaluations import Evaluation, EvaluationDocument, EvaluationPlan
from .history import ChangeRecord
from .reference import Office, OfficeType, Region, Term, Unit, UnitAlias
from .responses import ActionUpdate, KeyAction, ManagementResponse, Recommendation, RecommendationTerm
from .tallies import ActionTally, TallySum

__all__ = [
    "AccountMail",
    "ActionTally",
    "ActionUpdate",
    "ChangeRecord",
    "DeadlineRevision",
    "Evaluation",
    "EvaluationDocument",
    "EvaluationPlan",
    "KeyAction",
    "ManagementResponse",
    "Office",
    "OfficeType",
    "OutcomeQuestion",
    "PersonSetting",
    "Recommendation",
    "RecommendationTerm",
    "Region",
    "Role",
    "RoleAssignment",
    "TallySum",
    "Term",
    "Unit",
    "UnitAlias",
    "Verification",
    "VerificationState",
]
