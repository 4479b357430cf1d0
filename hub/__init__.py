"""Regional Resource Hub: settings, app, auth, CLI and wiring."""
