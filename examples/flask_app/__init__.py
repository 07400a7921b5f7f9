"""A groupware vendor's site in the style of kopano.com, served by Flask behind cookieguard."""
