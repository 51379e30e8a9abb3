"""The site's icon: linked from every page, and where browsers look for it unasked."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static


@pytest.mark.django_db
def test_pages_link_the_icon_and_favicon_ico_points_at_it(client):
    icon = static("img/favicon.svg")
    assert f'<link rel="icon" href="{icon}"' in client.get("/login").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == icon
    assert Path(finders.find("img/favicon.svg")).read_text().startswith("<svg")
