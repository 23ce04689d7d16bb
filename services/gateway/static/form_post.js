// OAuth 2.0 Form Post Response Mode: send the authorization response to the application.
document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit(); });
