"""The demo estate's static catalog: accounts, models, applications, profiles, rules and text.

Everything here is plain data; `demo.sim` turns it into invocations. Ids are fixed so
that a demo config, its ground truth and screenshots stay stable across runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Planted in prompt and response text so tests can prove bodies never reach the warehouse.
DEMO_CANARY = "GLCANARY-5e1f0c8a-do-not-store"
LOG_BUCKET = "demo-bedrock-logs"

ACCT_RETAIL = "318472650193"
ACCT_SHARED = "527104839261"
ACCT_RESEARCH = "746290158374"
ACCOUNTS = {ACCT_RETAIL: "retail-prod", ACCT_SHARED: "enterprise-shared",
            ACCT_RESEARCH: "research-sandbox"}  # fmt: skip
# Hours from UTC of each region's business day (DST ignored: "roughly" is enough for a demo).
REGION_TZ = {"us-east-1": -5, "us-west-2": -8, "eu-west-1": 0}
# Where cross-region profiles actually serve from, by profile geography.
SERVING = {
    "us": (("us-east-1", 0.5), ("us-east-2", 0.25), ("us-west-2", 0.25)),
    "eu": (("eu-west-1", 0.4), ("eu-central-1", 0.3), ("eu-west-3", 0.15), ("eu-north-1", 0.15)),
    "global": (("us-east-1", 0.35), ("us-west-2", 0.2), ("eu-west-1", 0.15),
               ("eu-central-1", 0.1), ("ap-northeast-1", 0.1), ("us-east-2", 0.1)),
}  # fmt: skip
SSO_ROLE = "AWSReservedSSO_PowerUserAccess_5c1e9a7f03b2d4e6"


@dataclass(frozen=True)
class Model:
    id: str
    provider: str  # anthropic | nova | titan | meta | mistral | cohere | ai21
    base_ms: float  # time to first token, roughly
    ms_per_token: float
    caches: bool = False
    geo: bool = True  # has us./eu. system inference profiles
    global_ok: bool = False  # has a global. profile
    profile_only: bool = False  # on-demand only through an inference profile


# fmt: off
NEW_CLAUDE = {"caches": True, "profile_only": True}  # on-demand only through a profile
CLAUDE_4 = {**NEW_CLAUDE, "global_ok": True}
MODELS = (  # id, provider, base_ms, ms_per_token, then capabilities
    Model("anthropic.claude-3-haiku-20240307-v1:0", "anthropic", 260, 7),
    Model("anthropic.claude-3-5-haiku-20241022-v1:0", "anthropic", 300, 9, caches=True),
    Model("anthropic.claude-3-7-sonnet-20250219-v1:0", "anthropic", 650, 19, **NEW_CLAUDE),
    Model("anthropic.claude-sonnet-4-20250514-v1:0", "anthropic", 700, 20, **CLAUDE_4),
    Model("anthropic.claude-sonnet-4-5-20250929-v1:0", "anthropic", 750, 21, **CLAUDE_4),
    Model("anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic", 280, 8, **CLAUDE_4),
    Model("anthropic.claude-opus-4-1-20250805-v1:0", "anthropic", 1400, 42, **NEW_CLAUDE),
    Model("amazon.nova-micro-v1:0", "nova", 150, 3, caches=True),
    Model("amazon.nova-lite-v1:0", "nova", 180, 4, caches=True),
    Model("amazon.nova-pro-v1:0", "nova", 320, 9, caches=True),
    Model("amazon.titan-text-express-v1", "titan", 350, 12, geo=False),
    Model("meta.llama3-1-8b-instruct-v1:0", "meta", 200, 6),
    Model("meta.llama3-3-70b-instruct-v1:0", "meta", 420, 16, profile_only=True),
    Model("mistral.mistral-large-2407-v1:0", "mistral", 500, 18, geo=False),
    Model("mistral.mixtral-8x7b-instruct-v0:1", "mistral", 300, 10, geo=False),
    Model("cohere.command-r-plus-v1:0", "cohere", 480, 17, geo=False),
    Model("cohere.command-r-v1:0", "cohere", 300, 9, geo=False),
    # Deliberately absent from bedrock_prices.csv: the demo shows an "unpriced" model.
    Model("ai21.jamba-1-5-large-v1:0", "ai21", 450, 14, geo=False),
)
# fmt: on

MODEL_INDEX = {m.id: i for i, m in enumerate(MODELS)}
UNPRICED_MODEL = "ai21.jamba-1-5-large-v1:0"

OPERATIONS = ("InvokeModel", "InvokeModelWithResponseStream", "Converse", "ConverseStream")
FORMS = ("foundation", "system_profile", "system_profile_arn", "global_profile",
         "application_profile")  # fmt: skip


@dataclass(frozen=True)
class Profile:
    """An application inference profile; `listed` says whether the demo config names it."""

    key: str
    account: str
    region: str
    suffix: str
    model: str
    tags: tuple[tuple[str, str], ...]
    listed: bool = True
    cross_region: bool = False  # copied from a system profile, so it serves elsewhere too

    @property
    def arn(self) -> str:
        return (
            f"arn:aws:bedrock:{self.region}:{self.account}:application-inference-profile/"
            f"{self.suffix}"
        )


def _tags(lob: str, app: str, cc: str) -> tuple[tuple[str, str], ...]:
    return (("lob", lob), ("app", app), ("cost-center", cc))


# fmt: off
PROFILES = (
    Profile("claims-haiku", ACCT_SHARED, "us-east-1", "k3m9x2q7v1ab",
            "anthropic.claude-3-5-haiku-20241022-v1:0",
            _tags("insurance", "claims-summarizer", "CC-4410")),
    Profile("claims-sonnet", ACCT_SHARED, "us-east-1", "p8d4w6n0c5ty",
            "anthropic.claude-sonnet-4-20250514-v1:0",
            _tags("insurance", "claims-summarizer", "CC-4410"), cross_region=True),
    Profile("underwriting", ACCT_SHARED, "us-east-1", "h2j7r5s9e3uf",
            "anthropic.claude-3-7-sonnet-20250219-v1:0",
            _tags("insurance", "underwriting-qa", "CC-4420"), cross_region=True),
    Profile("policy-search", ACCT_SHARED, "eu-west-1", "b6g1z8l4m2ok",
            "cohere.command-r-plus-v1:0", _tags("insurance", "policy-search", "CC-4430")),
    Profile("policy-bot", ACCT_SHARED, "eu-west-1", "t5v0a3y7d9qe",
            "anthropic.claude-3-5-haiku-20241022-v1:0", _tags("hr", "policy-bot", "CC-2100")),
    # Not in the demo config and never resolvable offline: its model shows as unresolved.
    Profile("resume-screen", ACCT_SHARED, "us-east-1", "x4c8f1w6r0ni", "amazon.nova-pro-v1:0",
            _tags("hr", "resume-screen", "CC-2110"), listed=False),
)
# fmt: on

PROFILE_BY_KEY = {p.key: p for p in PROFILES}


@dataclass(frozen=True)
class App:
    name: str
    lob: str | None  # None: a stray caller no rule should claim
    account: str
    regions: tuple[tuple[str, float], ...]
    share: float
    models: tuple[tuple[str, float], ...]
    ops: tuple[float, float, float, float]  # weights in OPERATIONS order
    forms: tuple[float, float, float, float, float]  # weights in FORMS order
    tokens: tuple[int, int, int]  # median input, median output, max_tokens
    team: str = ""
    metadata: bool = False  # sends Converse requestMetadata
    guardrail: float = 0.0  # base intervention rate; 0 = no guardrail
    caches: bool = False
    tools: bool = False
    weekend: float = 0.35
    flat: bool = False  # batch/24x7 traffic instead of business hours
    growth: float = 1.5  # traffic multiplier at the end of the estate vs its start
    launch: float = 0.0  # fraction of the estate before which the app did not exist
    profiles: tuple[str, ...] = ()  # application profile keys it calls
    principal: str | None = None  # strays: a fixed caller instead of the app role

    @property
    def role(self) -> str:
        return f"{self.lob}-{self.name}"


C3H, C35H = "anthropic.claude-3-haiku-20240307-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0"
C37S = "anthropic.claude-3-7-sonnet-20250219-v1:0"
CS4, CS45 = "anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-sonnet-4-5-20250929-v1:0"
CH45, CO41 = "anthropic.claude-haiku-4-5-20251001-v1:0", "anthropic.claude-opus-4-1-20250805-v1:0"
NMICRO, NLITE, NPRO = "amazon.nova-micro-v1:0", "amazon.nova-lite-v1:0", "amazon.nova-pro-v1:0"
TITAN, L8B = "amazon.titan-text-express-v1", "meta.llama3-1-8b-instruct-v1:0"
L70B = "meta.llama3-3-70b-instruct-v1:0"
MLARGE, MIXTRAL = "mistral.mistral-large-2407-v1:0", "mistral.mixtral-8x7b-instruct-v0:1"
CRPLUS, CR, JAMBA = "cohere.command-r-plus-v1:0", "cohere.command-r-v1:0", UNPRICED_MODEL

USE1, USW2, EUW1 = "us-east-1", "us-west-2", "eu-west-1"
CONVERSE = (0.0, 0.0, 0.55, 0.45)
NATIVE = (0.6, 0.4, 0.0, 0.0)
FOUNDATION = (1.0, 0.0, 0.0, 0.0, 0.0)

# fmt: off
APPS = (
    App("chat-assist", "retail-banking", ACCT_RETAIL, ((USE1, 0.7), (USW2, 0.3)), 14,
        ((C35H, 0.6), (CH45, 0.3), (NLITE, 0.1)), (0.1, 0.0, 0.5, 0.4), (0.4, 0.4, 0.2, 0, 0),
        (900, 220, 1024), "digital-channels", True, 0.03, True, weekend=0.75),
    App("card-disputes", "retail-banking", ACCT_RETAIL, ((USE1, 1.0),), 6,
        ((C3H, 0.5), (C35H, 0.5)), (0.7, 0.3, 0, 0), FOUNDATION, (2500, 400, 2048), "cards"),
    App("branch-copilot", "retail-banking", ACCT_RETAIL, ((USW2, 1.0),), 4,
        ((NPRO, 0.5), (NMICRO, 0.5)), CONVERSE, (0.5, 0.5, 0, 0, 0), (700, 180, 1024),
        "branch-ops", True),
    App("advisor-notes", "wealth", ACCT_RETAIL, ((USE1, 1.0),), 6,
        ((CS4, 0.7), (C37S, 0.3)), (0.4, 0.6, 0, 0), (0, 0.7, 0.3, 0, 0), (4000, 600, 4096),
        guardrail=0.02, caches=True, weekend=0.2),
    App("portfolio-insights", "wealth", ACCT_RETAIL, ((USW2, 1.0),), 4,
        ((CS45, 0.6), (NPRO, 0.4)), (0, 0, 1.0, 0), (0, 0.5, 0, 0.5, 0), (3000, 500, 4096),
        caches=True, tools=True),
    App("claims-summarizer", "insurance", ACCT_SHARED, ((USE1, 1.0),), 8,
        ((C35H, 0.5), (CS4, 0.5)), NATIVE, (0.15, 0, 0, 0, 0.85), (6000, 500, 2048),
        guardrail=0.04, caches=True, profiles=("claims-haiku", "claims-sonnet")),
    App("underwriting-qa", "insurance", ACCT_SHARED, ((USE1, 1.0),), 5,
        ((C37S, 0.7), (MLARGE, 0.3)), (0.5, 0, 0.5, 0), (0.3, 0, 0, 0, 0.7), (3500, 450, 2048),
        tools=True, profiles=("underwriting",)),
    App("policy-search", "insurance", ACCT_SHARED, ((EUW1, 1.0),), 4,
        ((CRPLUS, 0.6), (CR, 0.4)), (0.6, 0, 0.4, 0), (0.4, 0, 0, 0, 0.6), (1800, 250, 1024),
        profiles=("policy-search",)),
    App("campaign-writer", "marketing", ACCT_SHARED, ((USE1, 1.0),), 5,
        ((CS45, 0.5), (MLARGE, 0.2), (L70B, 0.3)), (0, 0.2, 0.3, 0.5), (0.3, 0.3, 0, 0.4, 0),
        (1200, 800, 4096), "mkt-content", True, 0.05),
    App("seo-briefs", "marketing", ACCT_SHARED, ((EUW1, 1.0),), 3,
        ((NLITE, 0.6), (MIXTRAL, 0.4)), (0.3, 0, 0.7, 0), (0.6, 0.4, 0, 0, 0), (600, 500, 2048),
        "mkt-seo", True),
    App("social-listening", "marketing", ACCT_SHARED, ((USE1, 1.0),), 4,
        ((NMICRO, 0.7), (L8B, 0.3)), (1.0, 0, 0, 0), FOUNDATION, (400, 60, 256), weekend=1.0,
        flat=True),
    App("policy-bot", "hr", ACCT_SHARED, ((EUW1, 1.0),), 3, ((C35H, 1.0),), CONVERSE,
        (0, 0, 0, 0, 1.0), (1500, 300, 1024), "people-ops", True, 0.06,
        profiles=("policy-bot",)),
    App("resume-screen", "hr", ACCT_SHARED, ((USE1, 1.0),), 1.2, ((NPRO, 1.0),), (1.0, 0, 0, 0),
        (0.7, 0, 0, 0, 0.3), (2200, 150, 512), weekend=0.1, profiles=("resume-screen",)),
    App("contract-review", "legal", ACCT_SHARED, ((USE1, 1.0),), 3, ((CO41, 0.2), (CS4, 0.8)),
        (0, 0, 0.6, 0.4), (0, 0.6, 0.4, 0, 0), (12000, 900, 4096), caches=True, weekend=0.1),
    App("ediscovery", "legal", ACCT_SHARED, ((EUW1, 1.0),), 1.5, ((CR, 0.7), (JAMBA, 0.3)),
        (0.3, 0, 0.7, 0), FOUNDATION, (5000, 400, 1024), weekend=0.1),
    App("code-review", "engineering", ACCT_SHARED, ((USE1, 1.0),), 6,
        ((CS45, 0.6), (CH45, 0.4)), (0, 0, 0.4, 0.6), (0, 0.5, 0, 0.5, 0), (5000, 700, 8192),
        "dev-productivity", True, caches=True, tools=True, weekend=0.15, growth=2.2),
    App("incident-summarizer", "engineering", ACCT_SHARED, ((USE1, 1.0),), 2,
        ((NPRO, 0.5), (C3H, 0.5)), (0.5, 0.5, 0, 0), (0.8, 0.2, 0, 0, 0), (3000, 350, 1024),
        weekend=0.8, flat=True),
    App("docs-search", "engineering", ACCT_SHARED, ((EUW1, 1.0),), 3,
        ((TITAN, 0.4), (NLITE, 0.6)), (0.7, 0.3, 0, 0), FOUNDATION, (1500, 250, 1024)),
    App("model-eval", "research", ACCT_RESEARCH, ((USW2, 1.0),), 2,
        ((L8B, 1), (L70B, 1), (MIXTRAL, 1), (MLARGE, 1), (CR, 1), (NMICRO, 1), (C3H, 1),
         (TITAN, 1)), (0.5, 0.2, 0.3, 0), (0.8, 0.2, 0, 0, 0), (800, 300, 1024), weekend=0.8,
        flat=True),
    App("rag-lab", "research", ACCT_RESEARCH, ((USW2, 1.0),), 1.5, ((C35H, 0.5), (NLITE, 0.5)),
        CONVERSE, (0.5, 0.5, 0, 0, 0), (4000, 300, 1024), caches=True, growth=3.0, launch=0.4),
    # Stray callers: a console user and a CI user that no attribution rule claims.
    App("sso-console", None, ACCT_RETAIL, ((USE1, 1.0),), 2.5, ((CS4, 0.6), (C35H, 0.4)),
        CONVERSE, (0.3, 0.7, 0, 0, 0), (1500, 400, 2048), weekend=0.1,
        principal=f"arn:aws:sts::{ACCT_RETAIL}:assumed-role/{SSO_ROLE}/{{session}}"),
    App("ci-tests", None, ACCT_SHARED, ((USE1, 1.0),), 1.2, ((NMICRO, 0.5), (C3H, 0.5)),
        (1.0, 0, 0, 0), FOUNDATION, (300, 50, 256), weekend=0.6, flat=True,
        principal=f"arn:aws:iam::{ACCT_SHARED}:user/ci-integration-tests"),
)
# fmt: on

APP_INDEX = {a.name: i for i, a in enumerate(APPS)}
SSO_USERS = ("dana.kim@example.com", "raj.patel@example.com", "lena.novak@example.com")

# First match wins: metadata, then profiles, then principals, then the research account.
# Every matcher kind appears; the stray callers above match none of these on purpose.
# fmt: off
RULES: tuple[dict[str, Any], ...] = (
    {"lob": "retail-banking", "request_metadata": {"lob": "retail-banking"}},
    {"lob": "marketing", "request_metadata": {"team": "mkt-*"}},
    {"lob": "hr", "app": "policy-bot", "inference_profile": PROFILE_BY_KEY["policy-bot"].arn},
    {"lob": "insurance", "profile_tag": {"lob": "insurance"}},
    {"lob": "retail-banking",
     "principal": f"arn:aws:sts::{ACCT_RETAIL}:assumed-role/retail-banking-*/*"},
    {"lob": "wealth", "principal": f"arn:aws:iam::{ACCT_RETAIL}:role/wealth-*"},
    {"lob": "insurance", "principal": "arn:aws:sts::*:assumed-role/insurance-*/*"},
    {"lob": "marketing", "principal": f"arn:aws:sts::{ACCT_SHARED}:assumed-role/marketing-*/*"},
    {"lob": "hr", "app": "resume-screen",
     "principal": f"arn:aws:iam::{ACCT_SHARED}:role/hr-resume-screen"},
    {"lob": "hr", "principal": f"arn:aws:iam::{ACCT_SHARED}:role/hr-*"},
    {"lob": "legal", "principal": f"arn:aws:sts::{ACCT_SHARED}:assumed-role/legal-*/*"},
    {"lob": "engineering", "principal": f"arn:aws:iam::{ACCT_SHARED}:role/engineering-*"},
    {"lob": "research", "account": ACCT_RESEARCH},
)
GUARDRAIL_APPS = {  # app: (guardrail id in its first region, version it runs)
    "chat-assist": ("q7w2e9r4t1yu", "3"), "advisor-notes": ("m1n5b8v2c6xz", "2"),
    "claims-summarizer": ("a9s3d7f1g5hj", "4"), "campaign-writer": ("z2x6c0v4b8nm", "1"),
    "policy-bot": ("l4k8j2h6g0fd", "DRAFT"),
}

# Incidents: where in the estate (fraction of its span), how long, and what they hit.
INCIDENTS: dict[str, dict] = {
    "latency_regression": {"at": 0.55, "hours": 24, "model": NPRO, "factor": 3.0},
    # A queue in front of the model: every answer starts late, then streams at its usual pace.
    # Latency per output token hardly moves (a long answer hides 2 s); only TTFT shows it.
    "ttft_regression": {"at": 0.35, "hours": 10, "model": CS4, "delay_ms": 2500},
    "guardrail_burst": {"at": 0.78, "hours": 5, "app": "chat-assist", "account": ACCT_RETAIL,
                        "region": USE1, "rate": 0.4},
    "cost_runaway": {"at": 0.85, "hours": 48, "app": "code-review", "account": ACCT_SHARED,
                     "region": USE1, "factor": 9.0},
    "throttling_storm": {"at": 0.92, "hours": 3, "model": C35H, "account": ACCT_RETAIL,
                         "region": USE1, "rate": 0.7},
    "logging_off": {"at": 0.96, "hours": 6, "account": ACCT_SHARED, "region": EUW1},
}
# fmt: on

GUARDRAIL_EDITOR = f"arn:aws:sts::{ACCT_RETAIL}:assumed-role/{SSO_ROLE}/dana.kim@example.com"

ERRORS = (("ValidationException", 0.45), ("ModelErrorException", 0.2),
          ("AccessDeniedException", 0.1), ("ModelTimeoutException", 0.1),
          ("ServiceUnavailableException", 0.15))  # fmt: skip

PROMPTS = (
    "Summarize the customer's last three messages and suggest a reply.",
    "Explain this card transaction dispute in plain language.",
    "Draft a follow-up email to the client about their quarterly review.",
    "List the key exclusions in this home insurance policy.",
    "Summarize the attached claim notes for the adjuster.",
    "What documents are required to open a joint account?",
    "Write three subject lines for the spring savings campaign.",
    'Classify the sentiment of this social post: "love the new app, finally!"',
    "Does our parental leave policy cover adoption?",
    "Extract the termination clauses from this supplier contract.",
    "Review this pull request diff and point out risky changes.",
    "Summarize the incident timeline from these alert messages.",
    "Find the section of the runbook about rotating database credentials.",
    "Translate the product FAQ answer into French.",
    "Rate this résumé against the job description for a data analyst.",
    "Answer the question using only the retrieved passages below.",
    "Which clauses in this NDA differ from our standard template?",
    "Generate an SEO brief for the keyword 'fixed rate mortgage'.",
    "Rewrite this paragraph for a customer with low financial literacy.",
    "Is this wire transfer request consistent with the customer's history?",
    "Compare the risk profile of these two portfolios in a short table.",
    "Write a unit test for the interest calculation function.",
    "Summarize the board memo in five bullet points.",
    "What is the claim status for policy PX-20931? Tab\tseparated ids follow.",
)
RESPONSES = (
    "Here is a short summary of the conversation and a suggested reply.",
    "The dispute concerns a duplicate charge; the merchant has 10 days to respond.",
    "Dear client, thank you for meeting with us to review your portfolio this quarter.",
    "The policy excludes flood damage, wear and tear, and unoccupied periods over 60 days.",
    "The claimant reports water damage in the kitchen; photos and an estimate are attached.",
    "You will need a valid ID for each holder and proof of address.",
    "1. Grow your savings this spring 2. Spring into saving 3. Your money, in bloom",
    "Sentiment: positive (0.93).",
    "Yes. Adoption is covered on the same terms as birth, from the placement date.",
    "Clause 14.2 allows termination for convenience with 90 days' notice.",
    "The change to retry handling can loop forever when the token expires; add a cap.",
    "At 02:14 UTC error rates rose; a config rollback at 02:41 restored service.",
    'See section 4.3 "Credential rotation": rotate via the secrets manager, then restart.',
    "Réponse : vous pouvez modifier votre plafond dans l'application.",
    "Strong SQL and dashboarding experience; limited exposure to Python. Score 7/10.",
    "Based on passages 2 and 5, the fee is waived for accounts opened before 2024.",
    "Clauses 3 and 7 differ: the term is five years and the governing law is Delaware.",
    "Target intent: comparison. Outline: rates today, fixed vs variable, calculator, FAQ.",
    "Your interest is the money the bank pays you for keeping savings with it.",
    "The amount is 6x the customer's usual transfers; route for manual review.",
    "Portfolio A: higher equity share, higher volatility. Portfolio B: bond heavy, steadier.",
    "def test_monthly_interest():\n    assert monthly_interest(1200, 0.05) == 5.0",
    "- Revenue up 8%\n- Costs flat\n- Two new markets\n- Hiring paused\n- Dividend held",
    "Policy PX-20931 is approved; payment is scheduled for Friday.",
)
# Which of PROMPTS (and the paired RESPONSES) each app sends.
# fmt: off
APP_PROMPTS = {
    "chat-assist": (0, 5, 13, 18), "card-disputes": (1, 19), "branch-copilot": (5, 18),
    "advisor-notes": (2, 20), "portfolio-insights": (20, 2), "claims-summarizer": (4, 23),
    "underwriting-qa": (3, 23), "policy-search": (3, 15), "campaign-writer": (6, 13),
    "seo-briefs": (17, 13), "social-listening": (7,), "policy-bot": (8,), "resume-screen": (14,),
    "contract-review": (9, 16), "ediscovery": (9, 16, 15), "code-review": (10, 21),
    "incident-summarizer": (11,), "docs-search": (12, 15), "model-eval": (22, 15, 7, 0),
    "rag-lab": (15,), "sso-console": (22, 13, 21), "ci-tests": (7, 21),
}
# fmt: on
# Guardrail outcomes reuse these fixed texts, appended after the normal phrases.
BLOCKED_INPUT = "Sorry, I can't help with that request."
BLOCKED_OUTPUT = "Sorry, the response was blocked by our content policy."
ANONYMIZED = "I have emailed the statement to {EMAIL} as requested."
TEXTS = (*RESPONSES, BLOCKED_INPUT, BLOCKED_OUTPUT, ANONYMIZED)
SYSTEM = "You are a helpful assistant for an enterprise. Answer concisely and cite sources."
# Large bodies are offloaded to the data/ folder; this filler makes them really large.
FILLER = " ".join(
    f"Clause {i}: the parties agree to the terms set out in schedule {i % 7}." for i in range(1700)
)


def escape(text: str) -> str:
    """The text as it appears inside a JSON string literal."""
    return json.dumps(text, ensure_ascii=False)[1:-1]
