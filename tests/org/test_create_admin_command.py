from tests.conftest import login


def test_create_admin_then_log_in(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--email", "Boss@Example.test", "--name", "Boss", "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    api = login(app, "boss@example.test", "a-long-password")
    assert api.get("/api/v1/me").json["role"] == "admin"


def test_create_admin_refuses_a_short_password(app):
    result = app.test_cli_runner().invoke(args=["create-admin", "--email", "x@example.test", "--name", "X", "--password", "short"])
    assert result.exit_code != 0 and "at least" in result.output
