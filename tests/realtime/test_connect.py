from service_hub.auth.operations import create_token
from service_hub.core.extensions import socketio


def test_anonymous_socket_is_refused(app):
    client = socketio.test_client(app)
    assert not client.is_connected()


def test_token_and_session_sockets_connect(app, world, login_as):
    _, secret = create_token(world.agent_a, "rt", ["tickets:read"], None)
    by_token = socketio.test_client(app, auth={"token": secret})
    assert by_token.is_connected()
    assert not socketio.test_client(app, auth={"token": "shub_wrong"}).is_connected()
    api = login_as(world.agent_a)
    by_session = socketio.test_client(app, flask_test_client=api.client)
    assert by_session.is_connected()
