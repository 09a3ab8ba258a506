"""Authentication and authorisation errors."""

from watchkeeper.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    Unauthorized,
)


class MissingToken(Unauthorized):
    """No bearer token in the request."""


class InvalidToken(Unauthorized):
    """The bearer token is unknown, revoked or expired."""


class RoleNotAllowed(Forbidden):
    """The token's role may not perform this action."""


class UnknownRole(InvalidInput):
    """A token was requested with a role that does not exist."""


class InvalidTokenRequest(InvalidInput):
    """A token was requested with an unusable name or lifetime."""


class TokenNameTaken(Conflict):
    """A token with that name already exists."""


class TokenNotFound(NotFound):
    """No token has that name."""


class UserNotFound(NotFound):
    """No user has that name (or no contact method that id)."""


class UserNameTaken(Conflict):
    """A user with that name already exists."""


class InvalidUser(InvalidInput):
    """A user, contact method or notification rule field is unusable; the message names it."""


class LastAdmin(Conflict):
    """The change would leave no user with the admin role."""


class UserInUse(Conflict):
    """A user still named by a schedule or an escalation policy cannot be deleted."""


class TeamNotFound(NotFound):
    """No team has that name (or the user is not a member of it)."""


class TeamNameTaken(Conflict):
    """A team with that name already exists."""


class InvalidTeam(InvalidInput):
    """A team name or an owned service name is unusable; the message names the field."""


class OwnedByAnotherTeam(Forbidden):
    """The thing to change belongs to a team the user is not a member of."""


class SignInFailed(Unauthorized):
    """A wrong user name or password (which one is never said)."""


class SignInThrottled(TooManyRequests):
    """Too many failed sign-ins for this name or address; wait ``retry_after`` seconds."""
