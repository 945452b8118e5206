"""Sphinx helpers for the django-stepup docs.

``.. setting:: TOKEN_PREFIX`` declares a ``STEPUP`` key (a link target and an
index entry); ``:setting:`TOKEN_PREFIX``` links to it.
"""


def setup(app):
    app.add_crossref_type(
        directivename="setting",
        rolename="setting",
        indextemplate="pair: %s; setting",
    )
    return {"parallel_read_safe": True, "parallel_write_safe": True}
