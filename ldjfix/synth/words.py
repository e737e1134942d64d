"""Small built-in word lists for the sample-data generator (:mod:`ldjfix.synth.generator`).

Hand-picked so generated CRM records look like a real export: mostly plain ASCII, with a
steady trickle of accented, Polish, German and Japanese names, because real CRMs hold those and
they are where byte-exact tools break.
"""

from __future__ import annotations

FIRST_NAMES = (
    "Emma", "Liam", "Olivia", "Noah", "Ava", "James", "Sophia", "Lucas", "Mia", "Ethan",
    "Isabella", "Mateo", "Amelia", "Oliver", "Harper", "Elijah", "Priya", "Arjun", "Wei",
    "Mei", "Aiko", "Haruto", "Ngozi", "Chinedu", "Fatima", "Omar", "Sven", "Ingrid",
    "Zoë", "Łukasz", "José", "François", "Björn", "Chloé", "Søren", "Małgorzata", "Jürgen",
    "Renée", "Ñora", "Dagný", "Siobhán", "Zoltán", "Ülkü", "Thảo",
)  # fmt: skip

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson",
    "Anderson", "Taylor", "Thomas", "Moore", "Martin", "Lee", "Clark", "Lewis", "Walker",
    "Patel", "Sharma", "Chen", "Wang", "Tanaka", "Suzuki", "Okafor", "Adeyemi", "Haddad",
    "O'Brien", "Nowak", "Kowalski", "Müller", "Schröder", "García", "Fernández", "Dubois",
    "Lefèvre", "Johansson", "Nørgaard", "Wójcik", "Nguyễn", "van der Berg", "D'Angelo",
)  # fmt: skip

TITLES = (
    "VP Sales", "Head of Revenue Operations", "Account Executive", "Sales Manager",
    "Director of Procurement", "CFO", "CTO", "IT Manager", "Operations Lead",
    "Chief Marketing Officer", "Senior Buyer", "Customer Success Manager",
    "Head of Data", "Purchasing Agent", "Solutions Architect", "Office Manager",
)  # fmt: skip

COMPANY_HEADS = (
    "Acme", "Globex", "Initech", "Umbrella", "Northwind", "Contoso", "Fabrikam", "Wayne",
    "Stark", "Hooli", "Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Blue River",
    "Silver Peak", "Red Oak", "Granite", "Harbor", "Summit", "Evergreen", "Lighthouse",
    "Ironclad", "Bright Path", "Maple Leaf", "Orion", "Polaris", "Cedar", "Quantum",
    "Nordlicht", "Müller & Söhne", "Société Lumière", "Łódź Tech", "Café Olé",
)  # fmt: skip

COMPANY_TAILS = (
    "Logistics", "Analytics", "Software", "Health", "Foods", "Energy", "Robotics",
    "Capital", "Media", "Systems", "Labs", "Pharma", "Retail", "Manufacturing", "Telecom",
    "Consulting", "Aerospace", "Security", "Biotech", "Holdings",
)  # fmt: skip

COMPANY_FORMS = ("Inc.", "LLC", "Ltd", "GmbH", "S.A.", "Corp.", "plc", "AG", "B.V.", "")

# Whole names that do not follow the head/tail pattern (Japanese company form included).
COMPANY_SPECIALS = (
    "株式会社サクラ物流", "株式会社ミライ", "Zoë's Bakery", "Ærø Shipping ApS",
    "Straße & Partner GmbH", "Øresund Data AB", "Café Olé S.L.",
)  # fmt: skip

TLDS = ("com", "com", "com", "io", "co", "net", "de", "co.uk", "fr", "jp", "pl")

INDUSTRIES = (
    "Software", "Healthcare", "Financial Services", "Manufacturing", "Retail", "Logistics",
    "Energy", "Education", "Media", "Telecommunications", "Biotechnology", "Construction",
)  # fmt: skip

ACCOUNT_TYPES = ("Customer", "Prospect", "Partner", "Reseller", "Churned")

CITIES = (
    ("Austin", "United States"), ("Boston", "United States"), ("Denver", "United States"),
    ("Toronto", "Canada"), ("London", "United Kingdom"), ("Dublin", "Ireland"),
    ("Berlin", "Germany"), ("München", "Germany"), ("Paris", "France"), ("Lyon", "France"),
    ("Kraków", "Poland"), ("Łódź", "Poland"), ("São Paulo", "Brazil"), ("Tokyo", "Japan"),
    ("大阪", "Japan"), ("Sydney", "Australia"), ("Zürich", "Switzerland"), ("Tel Aviv", "Israel"),
)  # fmt: skip

PRODUCTS = (
    "Platform", "Analytics Suite", "Enterprise Plan", "Team Plan", "Onboarding Package",
    "Data Connector", "Premium Support", "Security Add-on", "API Access", "Training",
)  # fmt: skip

DEAL_KINDS = ("New Business", "Renewal", "Expansion", "Upsell", "Pilot")

# Deal stages in board order; the last two close a deal.
STAGE_NAMES = (
    "Prospecting", "Qualification", "Discovery", "Demo", "Proposal", "Negotiation",
    "Closed Won", "Closed Lost",
)  # fmt: skip

NOTES = (
    "Met at the annual summit; follow up after budget approval.",
    "Multi-year contract under review by legal.",
    "Champion moved to a new role, re-engage the economic buyer.",
    "Requested a security questionnaire and SOC 2 report.",
    "Evaluating two competitors; pricing is the main concern.",
    "Expansion planned for the EMEA team next quarter.",
    "Procurement prefers annual invoicing in EUR.",
    "Pilot went well — waiting for the steering committee.",
    "Kunde wünscht Angebot auf Deutsch.",
    "担当者は来月から新しい部署に異動します。",
)  # fmt: skip
