"""The web front end of ACME's order desk."""


def application(environ, start_response):
    """A WSGI application that greets whoever asks."""
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
    return [b"ACME order desk: open\n"]
