"""An open-data portal in the style of Opendatasoft, served by Starlette behind cookieguard."""
