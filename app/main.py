"""genai-lens entry script: page config, routing, and the sidebar filters every page shares."""

from pathlib import Path

import streamlit as st

from app import access as access_gate
from app import sidebar

# Not "pages/": a folder of that name beside this script switches Streamlit to its legacy
# directory-based navigation, which serves /overview without running this router.
PAGES = Path(__file__).parent / "app_pages"


def page(name: str, title: str, icon: str, url: str) -> st.Page:
    return st.Page(PAGES / f"{name}.py", title=title, icon=f":material/{icon}:", url_path=url)


# The icon is a file shipped here: a :material/...: icon makes every browser fetch it from
# fonts.gstatic.com, and nothing of the app may reach outside the network.
st.set_page_config(
    page_title="genai-lens", page_icon=str(PAGES.parent / "favicon.png"), layout="wide"
)
# The default page is served at "/" only, so links to /overview?... would be "not found": the
# root gets its own (hidden) registration of the same script.
home = st.Page(
    PAGES / "overview.py", title="Overview", url_path="home", default=True, visibility="hidden"
)
access = access_gate.settle()  # sign-in and scope first: the sidebar reads the scope
SECTIONS = {
    "Leadership": [("overview", "Overview", "dashboard", "overview")],
    "FinOps": [("spend", "Spend", "payments", "spend"),
               ("capacity", "Capacity & savings", "savings", "capacity")],
    "SRE": [("reliability", "Reliability", "speed", "reliability"),
            ("anomalies", "Anomalies", "crisis_alert", "anomalies")],
    "Risk": [("governance", "Governance", "policy", "governance")],
    "Platform": [("data_health", "Data health", "health_and_safety", "data-health")],
}  # fmt: skip
# A role sees only its pages: a viewer has no Data health, FinOps only Overview and Spend. A
# page outside the role stays routed, hidden, to a refusal that is logged (a shared link or an
# edited URL lands there, not silently on the overview).
visible = {
    section: [page(*spec) if spec[3] in access.pages else access_gate.denied_page(*spec)
              for spec in specs]
    for section, specs in SECTIONS.items()
}  # fmt: skip
visible.setdefault("Leadership", []).insert(0, home)
current = st.navigation(visible)
sidebar.render()  # the filters live here, not in the pages, so they survive page switches
current.run()
