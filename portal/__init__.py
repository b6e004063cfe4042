"""Self-service support portal.

Importing the package loads nothing else, so its pure engines (`portal.sla`, `portal.scope`,
`portal.kb.analysis`, mail parsing) import without Flask; `create_app` is in `portal.app`.
"""


def __getattr__(name: str):
    if name == "create_app":  # `from portal import create_app` loads the web application
        from portal.app import create_app

        return create_app
    raise AttributeError(f"module 'portal' has no attribute {name!r}")
