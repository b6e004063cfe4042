from portal import create_app
from portal.kb.replica import start_follower

app = create_app()
start_follower(app)  # this host's articles and index follow the database
