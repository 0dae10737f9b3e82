def test_login_page_is_served(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
