from django.urls import path, re_path

from apps.access.history.api import AccessHistoryApi, AccessJournalProofApi
from apps.accounts.api import MeApi
from apps.accounts.oauth.api import SignInApi, SignInsApi
from apps.assistance.api import (
    MandateAcceptApi,
    MandateConfirmApi,
    MandateCountersignApi,
    MandateRevokeApi,
    MandatesApi,
    MandatesToCountersignApi,
    MyMandatesApi,
    RecordMandatesApi,
)
from apps.assistance.letters.api import AccountLetterApi, AccountStateApi, ActivationApi, SecondFactorResetApi
from apps.clinical.api import FactRectificationsApi, ProfileFactApi, RecordProfileFactsApi
from apps.consents.directives.api import DirectivesApi
from apps.consents.privacy.api import (
    AccessCodeRevokeApi,
    AccessCodesApi,
    BlockedProfessionalsApi,
    DesignatedDoctorApi,
    PrivacySettingsApi,
    SettingHistoryApi,
)
from apps.delegations.api import DelegationAcceptApi, DelegationRevokeApi, MyDelegationsApi, RecordDelegationsApi
from apps.notifications.api import NotificationListApi, NotificationReadApi, PreferencesApi, UnreadCountApi
from apps.records.api import RecordDetailApi, RecordListApi
from apps.records.document_api import DocumentApi, DocumentContentApi, RecordDocumentsApi, RecordFactsApi
from apps.summaries.all_facts_api import RecordConditionsApi, RecordMedicationsApi, RecordResultsApi
from apps.summaries.api import SummaryExportApi, SummaryExportDownloadApi, SummaryPdfRequestApi
from apps.summaries.search_api import RecordSearchApi
from apps.summaries.summary_api import RecordSummaryApi
from healthspace.api_errors import api_not_found

urlpatterns = [
    path("auth/sign-ins/", SignInsApi.as_view(), name="api_sign_ins"),
    path("auth/sign-ins/<uuid:sign_in_id>/", SignInApi.as_view(), name="api_sign_in"),
    path("me/", MeApi.as_view(), name="api_me"),
    path("records/", RecordListApi.as_view(), name="api_records"),
    path("records/<uuid:record_uuid>/", RecordDetailApi.as_view(), name="api_record_detail"),
    path("records/<uuid:record_uuid>/documents/", RecordDocumentsApi.as_view(), name="api_record_documents"),
    path("records/<uuid:record_uuid>/summary/", RecordSummaryApi.as_view(), name="api_record_summary"),
    path("records/<uuid:record_uuid>/search/", RecordSearchApi.as_view(), name="api_record_search"),
    path("records/<uuid:record_uuid>/results/", RecordResultsApi.as_view(), name="api_record_results"),
    path("records/<uuid:record_uuid>/conditions/", RecordConditionsApi.as_view(), name="api_record_conditions"),
    path("records/<uuid:record_uuid>/medications/", RecordMedicationsApi.as_view(), name="api_record_medications"),
    path("records/<uuid:record_uuid>/facts/", RecordFactsApi.as_view(), name="api_record_facts"),
    path("records/<uuid:record_uuid>/directives/", DirectivesApi.as_view(), name="api_record_directives"),
    path("records/<uuid:record_uuid>/access-history/", AccessHistoryApi.as_view(), name="api_access_history"),
    path(
        "records/<uuid:record_uuid>/access-history/journal/",
        AccessJournalProofApi.as_view(),
        name="api_access_journal_proof",
    ),
    path("documents/<uuid:document_uuid>/", DocumentApi.as_view(), name="api_document"),
    path("documents/<uuid:document_uuid>/content/", DocumentContentApi.as_view(), name="api_document_content"),
    path("notifications/", NotificationListApi.as_view(), name="api_notifications"),
    path("notifications/read/", NotificationReadApi.as_view(), name="api_notifications_read"),
    path("notifications/preferences/", PreferencesApi.as_view(), name="api_notification_preferences"),
    path("notifications/unread-count/", UnreadCountApi.as_view(), name="api_notifications_unread"),
    path("records/<uuid:record_uuid>/privacy/", PrivacySettingsApi.as_view(), name="api_privacy"),
    path("records/<uuid:record_uuid>/privacy/history/", SettingHistoryApi.as_view(), name="api_privacy_history"),
    path("records/<uuid:record_uuid>/blocked-professionals/", BlockedProfessionalsApi.as_view(), name="api_blocked"),
    path("records/<uuid:record_uuid>/designated-doctor/", DesignatedDoctorApi.as_view(), name="api_designated_doctor"),
    path("records/<uuid:record_uuid>/access-codes/", AccessCodesApi.as_view(), name="api_access_codes"),
    path("access-codes/<uuid:code_uuid>/revoke/", AccessCodeRevokeApi.as_view(), name="api_access_code_revoke"),
    path("records/<uuid:record_uuid>/delegations/", RecordDelegationsApi.as_view(), name="api_record_delegations"),
    path("delegations/mine/", MyDelegationsApi.as_view(), name="api_delegations_mine"),
    path("delegations/accept/", DelegationAcceptApi.as_view(), name="api_delegation_accept"),
    path("delegations/<uuid:delegation_uuid>/revoke/", DelegationRevokeApi.as_view(), name="api_delegation_revoke"),
    path("records/<uuid:record_uuid>/mandates/", RecordMandatesApi.as_view(), name="api_record_mandates"),
    path("mandates/", MandatesApi.as_view(), name="api_mandates"),
    path("mandates/mine/", MyMandatesApi.as_view(), name="api_mandates_mine"),
    path("mandates/<uuid:mandate_uuid>/confirm/", MandateConfirmApi.as_view(), name="api_mandate_confirm"),
    path("mandates/<uuid:mandate_uuid>/revoke/", MandateRevokeApi.as_view(), name="api_mandate_revoke"),
    path("mandates/<uuid:mandate_uuid>/accept/", MandateAcceptApi.as_view(), name="api_mandate_accept"),
    path("mandates/<uuid:mandate_uuid>/countersign/", MandateCountersignApi.as_view(), name="api_mandate_countersign"),
    path("mandates/to-countersign/", MandatesToCountersignApi.as_view(), name="api_mandates_to_countersign"),
    path("records/<uuid:record_uuid>/account/", AccountStateApi.as_view(), name="api_account_state"),
    path("records/<uuid:record_uuid>/account/letter/", AccountLetterApi.as_view(), name="api_account_letter"),
    path(
        "records/<uuid:record_uuid>/account/second-factor-reset/",
        SecondFactorResetApi.as_view(),
        name="api_second_factor_reset",
    ),
    path("activation/", ActivationApi.as_view(), name="api_activation"),
    path("records/<uuid:record_uuid>/profile/facts/", RecordProfileFactsApi.as_view(), name="api_profile_facts"),
    path("profile/facts/<uuid:fact_uuid>/", ProfileFactApi.as_view(), name="api_profile_fact"),
    path("profile/facts/<uuid:fact_uuid>/rectifications/", FactRectificationsApi.as_view(), name="api_rectify"),
    path("records/<uuid:record_uuid>/summary/pdf/", SummaryPdfRequestApi.as_view(), name="api_summary_pdf"),
    path("summary-exports/<uuid:export_uuid>/", SummaryExportApi.as_view(), name="api_summary_export"),
    path(
        "summary-exports/<uuid:export_uuid>/download/",
        SummaryExportDownloadApi.as_view(),
        name="api_summary_export_download",
    ),
    # Anything else under /api/v1/ (an id that is not a uuid, a typo) gets the API's one 404
    # body, not the HTML page.
    re_path(r"^.*$", api_not_found, name="api_not_found"),
]
