"""What an audit record says was done, in words a compliance officer reads: "Downloaded a
document", not "document.download". The console and its CSV export show these beside the
action's code; every action the API records has its words (tests/unit/test_audit_words.py)."""

from __future__ import annotations

ACTIONS: dict[str, str] = {
    # Health data
    "observation.create": "Added a measurement",
    "observation.read": "Read a measurement",
    "observation.update": "Changed a measurement",
    "observation.delete": "Deleted a measurement",
    "observation.list": "Listed measurements",
    "observation.latest": "Read the latest measurements",
    "document.upload": "Uploaded a document",
    "document.read": "Read a document's details",
    "document.download": "Downloaded a document",
    "document.delete": "Deleted a document",
    "document.list": "Listed documents",
    "export.fhir": "Exported their record (FHIR)",
    "export.csv": "Exported their measurements (CSV)",
    "measurements.csv": "Exported their measurements (CSV)",
    "profile.read": "Read their profile",
    "profile.update": "Changed their profile",
    # Signing in and the account
    "auth.login": "Signed in",
    "auth.logout": "Signed out",
    "auth.session": "Used a session",
    "auth.csrf": "Sent a request without the page's token",
    "auth.mfa_enroll": "Set up two-step sign-in",
    "account.register": "Created an account",
    "account.password_change": "Changed their password",
    "account.password_reset": "Reset their password by email",
    "account.password_reset_asked": "Asked for a password reset",
    "account.email_verify": "Confirmed their email address",
    "account.recovery_codes": "Made new recovery codes",
    "account.mfa_disable": "Turned off two-step sign-in",
    "account.session_end": "Signed a device out",
    "account.sign_out_everywhere": "Signed out everywhere",
    "account.deletion_request": "Asked for their account to be deleted",
    "account.deletion_cancel": "Kept their account (deletion cancelled)",
    "account.deleted": "Deleted an account on its owner's request",
    "invitation.refused": "Used an enrollment link that does not work",
    # Administration
    "admin.access": "Opened the admin area",
    "admin.users.list": "Listed accounts",
    "admin.user.invite": "Invited an administrator",
    "admin.user.reinvite": "Invited an administrator again",
    "admin.invitation.accept": "Accepted an invitation",
    "admin.user.lock": "Locked an account",
    "admin.user.unlock": "Unlocked an account",
    "admin.user.role": "Changed an account's role",
    "admin.user.mfa_reset": "Reset an account's second factor",
    "admin.audit.search": "Searched the audit log",
    "admin.audit.export": "Exported the audit log",
    "mail.failed": "An email could not be sent",
}

OUTCOMES: dict[str, str] = {
    "success": "done",
    "refused": "refused",
    "denied": "denied",
    "failure": "failed",
    "locked": "refused: account locked",
    "not_found": "refused: not found",
}


def describe(action: str, outcome: str) -> str:
    """ "Downloaded a document", or "Locked an account (refused: not found)"."""
    words = ACTIONS.get(action, action.replace(".", " ").replace("_", " ").capitalize())
    said = OUTCOMES.get(outcome, outcome.replace("_", " "))
    return words if outcome == "success" else f"{words} ({said})"
