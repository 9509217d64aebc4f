"""genai-lens entry script: page config and routing only; each page lives in app/app_pages/."""

from pathlib import Path

import streamlit as st

# Not "pages/": a folder of that name beside this script switches Streamlit to its legacy
# directory-based navigation, which serves /overview without running this router.
PAGES = Path(__file__).parent / "app_pages"

st.set_page_config(page_title="genai-lens", page_icon=":material/monitoring:", layout="wide")
overview = st.Page(
    PAGES / "overview.py", title="Overview", icon=":material/dashboard:", url_path="overview"
)
# The default page is served at "/" only, so links to /overview?... would be "not found": the
# root gets its own (hidden) registration of the same script.
home = st.Page(
    PAGES / "overview.py", title="Overview", url_path="home", default=True, visibility="hidden"
)
st.navigation([home, overview]).run()
