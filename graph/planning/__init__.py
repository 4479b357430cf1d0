"""Network-format program planning (273-ФЗ art. 15): which partner delivers which module.

- `model`: plain dataclasses in and out;
- `solver`: the choice (pure: no I/O);
- `drafts`: the art. 15 agreement drafts of a plan (pure);
- `reads`: the graph reads, `store`: plan storage — both *plans* (`graph.writes.Plan`), run
  with `graph.writes.run_plan(tx, …)` or `run_plan_async(tx, …)`.
"""

from graph.planning.drafts import agreements_needed, group_equipment
from graph.planning.model import (
    AgreementDraft,
    Assignment,
    EquipmentGroup,
    ExistingAgreement,
    IssuedDocument,
    NetworkPlan,
    PartyShare,
    PlanInput,
    PlanningError,
    ProgramInfo,
    ResourceUse,
    StaffInfo,
    Unit,
)
from graph.planning.reads import (
    PlanFilter,
    PlanPage,
    StoredPlan,
    fetch_input,
    load_plan,
    load_plans,
    plan_network_program,
)
from graph.planning.solver import choose_exact, choose_greedy, solve
from graph.planning.store import PLAN_STATUS_LABELS, PLAN_STATUSES, save_plan, set_plan_status

__all__ = [
    "PLAN_STATUSES", "PLAN_STATUS_LABELS", "AgreementDraft", "Assignment", "EquipmentGroup",
    "ExistingAgreement", "IssuedDocument", "NetworkPlan", "PartyShare", "PlanFilter",
    "PlanInput", "PlanPage", "PlanningError", "ProgramInfo", "ResourceUse", "StaffInfo",
    "StoredPlan", "Unit", "agreements_needed", "choose_exact", "choose_greedy", "fetch_input",
    "group_equipment", "load_plan", "load_plans", "plan_network_program", "save_plan",
    "set_plan_status", "solve",
]
