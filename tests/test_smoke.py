def test_home_lists_active_courses_only(client, make, db):
    make.course(title="Français – Secondaire")
    make.course(title="Cours retiré", active=False)
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    assert "Français – Secondaire" in page
    assert "Cours retiré" not in page
    assert "45,00" in page
