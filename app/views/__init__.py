"""One module per screen. Views are thin: they build controls from `AppState`
and route handlers to it through the shell."""
