"""The benchmark's Python echo handler: imported once, answers with its request."""


def handle(request):
    """Return the request as the response's data."""
    return {"success": True, "message": "echo", "data": request}
