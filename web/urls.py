from django.urls import path

from .views import (
    curation,
    deadlines,
    documents,
    drafting,
    history,
    notifications,
    outcomes,
    plans,
    portal,
    ratings,
    reports,
    search,
    units,
    verification,
    workspace,
)

app_name = "web"

urlpatterns = [
    # The public portal
    path("", portal.home, name="home"),
    path("regions/", portal.region_list, name="regions"),
    path("regions/<slug:slug>/", portal.region_detail, name="region"),
    path("offices/<slug:slug>/", portal.office_detail, name="office"),
    path("evaluations/", portal.evaluation_list, name="evaluations"),
    path("evaluations/new/", drafting.evaluation_create, name="evaluation_create"),
    path("evaluations/<int:pk>/", portal.evaluation_detail, name="evaluation"),
    path("evaluations/<int:pk>/edit/", drafting.evaluation_edit, name="evaluation_edit"),
    path("evaluations/<int:pk>/delete/", drafting.evaluation_delete, name="evaluation_delete"),
    path("evaluations/<int:pk>/documents/add/", documents.document_add, name="document_add"),
    path("documents/<int:pk>/", documents.document_download, name="document"),
    path("documents/<int:pk>/delete/", documents.document_delete, name="document_delete"),
    path("evaluations/<int:pk>/history/", history.evaluation_history, name="evaluation_history"),
    path("evaluations/<int:pk>/quality/", curation.evaluation_quality, name="evaluation_quality"),
    path("plans/new/", plans.plan_create, name="plan_create"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan"),
    path("plans/<int:pk>/edit/", plans.plan_edit, name="plan_edit"),
    path("plans/<int:pk>/close/", plans.plan_close, name="plan_close"),
    path("actions/", portal.action_list, name="actions"),
    path("actions/<int:pk>/", workspace.action_detail, name="action"),
    # The workspace
    path("workspace/", workspace.workspace, name="workspace"),
    path("workspace/actions/", workspace.my_actions, name="my_actions"),
    path("actions/<int:pk>/update/", workspace.action_update, name="action_update"),
    path("updates/<int:pk>/evidence/", workspace.evidence, name="evidence"),
    path("workspace/units/", units.unit_review, name="units"),
    # Reminders: my notifications and choices; the signed unsubscribe link (no sign-in)
    path("notifications/", notifications.notifications, name="notifications"),
    path("notifications/preferences/", notifications.notification_preferences, name="notification_preferences"),
    path("notifications/time-zone/", notifications.time_zone, name="time_zone"),
    path("notifications/unsubscribe/<str:token>/", notifications.unsubscribe, name="unsubscribe"),
    # Verified completion: the evaluation office accepts a completion or sends it back
    path("workspace/verification/", verification.verification_list, name="verification"),
    path("actions/<int:pk>/verify/", verification.action_verify, name="action_verify"),
    path("actions/<int:pk>/deadline/", deadlines.action_deadline, name="action_deadline"),
    path("recommendations/<int:pk>/adoption/", ratings.adoption, name="adoption"),
    path("actions/<int:pk>/outcome/", outcomes.outcome_schedule, name="outcome_schedule"),
    path("actions/<int:pk>/outcome/answer/", outcomes.outcome_answer, name="outcome_answer"),
    # Drafting and review
    path("responses/<int:pk>/edit/", drafting.response_edit, name="response_edit"),
    path("responses/<int:pk>/header/", drafting.response_header, name="response_header"),
    path("responses/<int:pk>/recommendations/add/", drafting.recommendation_add, name="recommendation_add"),
    path("responses/<int:pk>/submit/", drafting.response_submit, name="response_submit"),
    path("responses/<int:pk>/approve/", drafting.response_approve, name="response_approve"),
    path("responses/<int:pk>/return/", drafting.response_return, name="response_return"),
    path("recommendations/<int:pk>/edit/", drafting.recommendation_edit, name="recommendation_edit"),
    path("recommendations/<int:pk>/delete/", drafting.recommendation_delete, name="recommendation_delete"),
    path("recommendations/<int:pk>/move/", drafting.recommendation_move, name="recommendation_move"),
    path("recommendations/<int:pk>/actions/add/", drafting.action_add, name="action_add"),
    path("actions/<int:pk>/edit/", drafting.action_edit, name="action_edit"),
    path("actions/<int:pk>/delete/", drafting.action_delete, name="action_delete"),
    path("actions/<int:pk>/move/", drafting.action_move, name="action_move"),
    # Finding things: full-text search, similar recommendations, recurring themes
    path("search/", search.search, name="search"),
    path("recommendations/<int:pk>/similar/", search.similar, name="similar"),
    path("recurring/", search.recurring, name="recurring"),
    path("recurring/<int:pk>/", search.recurring_theme, name="recurring_theme"),
    # The audit trail
    path("history/", history.history_list, name="history"),
    # Dashboards, the annual report, exports
    path("dashboard/", reports.dashboard, name="dashboard"),
    path("reports/annual/", reports.annual_report, name="annual_report"),
    path(
        "export/<slug:kind>.<str:fmt>",
        reports.export_list,
        name="export",
    ),
    path("evaluations/<int:pk>/export.<str:fmt>", reports.export_evaluation, name="evaluation_export"),
]
