"""Small helpers shared by ACME's Python projects."""


def slugify(text):
    """'Hello, World!' -> 'hello-world'"""
    words = "".join(c if c.isalnum() else " " for c in text.lower()).split()
    return "-".join(words)
