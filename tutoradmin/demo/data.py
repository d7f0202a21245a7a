"""The fixed content of the demo data: catalogue, people, coupons and wording (Québec French)."""

import unicodedata

DEMO_PASSWORD = "demo-4as-tutorat"
DEMO_SEED = 4242

# --- Catalogue ------------------------------------------------------------------------------------

COURSES = [
    {
        "slug": "francais-secondaire",
        "title": "Français – Secondaire",
        "full_name": "Français, langue d'enseignement – Secondaire 1 à 5",
        "sigle": None,
        "institution": "Écoles secondaires du Québec",
        "rate_cents": 4500,
        "description": "Lecture, écriture et grammaire : préparation à l'épreuve unique d'écriture "
        "de 5e secondaire, correction de textes et méthodes de révision.",
    },
    {
        "slug": "mathematiques-secondaire-4-sn",
        "title": "Mathématiques – Secondaire 4 (SN)",
        "full_name": "Mathématique, séquence Sciences naturelles – Secondaire 4",
        "sigle": "065426",
        "institution": "Écoles secondaires du Québec",
        "rate_cents": 4500,
        "description": "Fonctions, géométrie analytique, trigonométrie et systèmes d'équations, "
        "avec exercices de type examen du ministère.",
    },
    {
        "slug": "anglais-secondaire",
        "title": "Anglais – Secondaire",
        "full_name": "Anglais, langue seconde – Secondaire 1 à 5",
        "sigle": None,
        "institution": "Écoles secondaires du Québec",
        "rate_cents": 4500,
        "description": "Compréhension orale et écrite, production écrite et conversation pour "
        "gagner en aisance avant les évaluations.",
    },
    {
        "slug": "physique-secondaire-5",
        "title": "Physique – Secondaire 5",
        "full_name": "Physique – Secondaire 5",
        "sigle": "053504",
        "institution": "Écoles secondaires du Québec",
        "rate_cents": 4500,
        "description": "Cinématique, dynamique, optique et laboratoires : comprendre les concepts "
        "et réussir les problèmes à plusieurs étapes.",
    },
    {
        "slug": "chimie-generale-cegep",
        "title": "Chimie générale – Cégep",
        "full_name": "Chimie générale : la matière",
        "sigle": "202-NYA-05",
        "institution": "Cégep",
        "rate_cents": 5000,
        "description": "Structure de l'atome, liaisons, stœchiométrie et gaz : accompagnement "
        "pour les examens et les rapports de laboratoire.",
    },
    {
        "slug": "calcul-differentiel-cegep",
        "title": "Calcul différentiel – Cégep",
        "full_name": "Calcul différentiel",
        "sigle": "201-NYA-05",
        "institution": "Cégep",
        "rate_cents": 5000,
        "description": "Limites, dérivées et optimisation, avec une méthode claire pour les problèmes d'application.",
    },
    {
        "slug": "mat-1000-calcul-1-ulaval",
        "title": "MAT-1000 Calcul I – Université Laval",
        "full_name": "MAT-1000 Calcul I",
        "sigle": "MAT-1000",
        "institution": "Université Laval",
        "rate_cents": 5500,
        "description": "Suites, dérivées, intégrales et leurs applications : préparation aux "
        "examens intra et final, révision des travaux pratiques.",
    },
    {
        "slug": "phy-1001-mecanique-ulaval",
        "title": "PHY-1001 Mécanique – Université Laval",
        "full_name": "PHY-1001 Mécanique",
        "sigle": "PHY-1001",
        "institution": "Université Laval",
        "rate_cents": 5500,
        "description": "Cinématique, lois de Newton, travail et énergie, quantité de mouvement "
        "et rotation, avec résolution guidée de problèmes.",
    },
]

# How often each course is booked, relative to the others.
COURSE_POPULARITY = {
    "francais-secondaire": 5,
    "mathematiques-secondaire-4-sn": 6,
    "anglais-secondaire": 3,
    "physique-secondaire-5": 3,
    "chimie-generale-cegep": 3,
    "calcul-differentiel-cegep": 3,
    "mat-1000-calcul-1-ulaval": 4,
    "phy-1001-mecanique-ulaval": 2,
}

# --- People ---------------------------------------------------------------------------------------

# Weekly rules: (weekday 0 = Monday, start "HH:MM", end "HH:MM"), local time.
TUTORS = [
    {
        "first_name": "Sophie",
        "last_name": "Tremblay",
        "phone": "418 555-0101",
        "hourly_rate_cents": 3200,
        "priority": 10,
        "meeting": "zoom",
        "bio": "Étudiante à la maîtrise en génie physique à l'Université Laval, Sophie aide les "
        "élèves du secondaire et du cégep à aimer les mathématiques depuis six ans.",
        "courses": [
            "mathematiques-secondaire-4-sn",
            "physique-secondaire-5",
            "calcul-differentiel-cegep",
            "mat-1000-calcul-1-ulaval",
        ],
        "rules": [
            (0, "16:00", "20:00"),
            (2, "16:00", "20:00"),
            (3, "17:00", "21:00"),
            (5, "09:00", "12:00"),
            (5, "13:00", "16:00"),
        ],
    },
    {
        "first_name": "Olivier",
        "last_name": "Bouchard",
        "phone": "418 555-0102",
        "hourly_rate_cents": 3000,
        "priority": 20,
        "meeting": "teams",
        "bio": "Doctorant en mathématiques appliquées, chargé de travaux pratiques en calcul "
        "et en mécanique à l'Université Laval.",
        "courses": [
            "mat-1000-calcul-1-ulaval",
            "phy-1001-mecanique-ulaval",
            "calcul-differentiel-cegep",
            "physique-secondaire-5",
        ],
        "rules": [(1, "08:30", "11:30"), (1, "18:00", "21:00"), (3, "18:00", "21:00"), (6, "10:00", "15:00")],
    },
    {
        "first_name": "Camille",
        "last_name": "Roy",
        "phone": "418 555-0103",
        "hourly_rate_cents": 2600,
        "priority": 30,
        "meeting": "meet",
        "bio": "Enseignante de français au secondaire en congé sabbatique, bilingue, passionnée "
        "de littérature québécoise et de correction de dissertations.",
        "courses": ["francais-secondaire", "anglais-secondaire"],
        "rules": [
            (0, "15:30", "19:30"),
            (1, "15:30", "19:30"),
            (2, "15:30", "19:30"),
            (4, "15:00", "18:00"),
            (5, "09:00", "12:00"),
        ],
    },
    {
        "first_name": "Gabriel",
        "last_name": "Lévesque",
        "phone": "581 555-0104",
        "hourly_rate_cents": 2800,
        "priority": 40,
        "meeting": "zoom",
        "bio": "Bachelier en chimie et étudiant en pharmacie, Gabriel explique la chimie et la "
        "physique avec des exemples tirés du laboratoire.",
        "courses": ["chimie-generale-cegep", "physique-secondaire-5", "phy-1001-mecanique-ulaval"],
        "rules": [(0, "18:00", "21:00"), (2, "09:00", "12:00"), (2, "18:00", "21:00"), (5, "13:00", "17:00")],
    },
    {
        "first_name": "Émilie",
        "last_name": "Fortin",
        "phone": "418 555-0105",
        "hourly_rate_cents": 2400,
        "priority": 50,
        "meeting": "meet",
        "bio": "Étudiante en enseignement au secondaire (mathématiques et français), Émilie "
        "mise sur la méthode et la confiance en soi.",
        "courses": ["mathematiques-secondaire-4-sn", "francais-secondaire"],
        "rules": [(1, "16:00", "20:00"), (3, "16:00", "20:00"), (6, "09:00", "12:00"), (6, "13:00", "16:00")],
    },
    {
        "first_name": "Alexandre",
        "last_name": "Morin",
        "phone": "514 555-0106",
        "hourly_rate_cents": 2900,
        "priority": 60,
        "meeting": "teams",
        "bio": "Ingénieur logiciel et ancien auxiliaire d'enseignement, Alexandre accompagne "
        "surtout les étudiants du cégep et de première année universitaire.",
        "courses": ["mat-1000-calcul-1-ulaval", "calcul-differentiel-cegep", "chimie-generale-cegep"],
        "rules": [(0, "09:00", "12:00"), (2, "13:00", "17:00"), (4, "09:00", "12:00"), (4, "13:00", "16:00")],
    },
    {
        "first_name": "Florence",
        "last_name": "Pelletier",
        "phone": "418 555-0107",
        "hourly_rate_cents": 2200,
        "priority": 70,
        "meeting": "zoom",
        "bio": "Étudiante en traduction, Florence aide en anglais, en français et en "
        "mathématiques de 1re à 4e secondaire.",
        "courses": ["anglais-secondaire", "francais-secondaire", "mathematiques-secondaire-4-sn"],
        "rules": [(0, "16:00", "19:00"), (1, "16:00", "19:00"), (3, "16:00", "19:00"), (5, "10:00", "14:00")],
    },
    {
        "first_name": "Samuel",
        "last_name": "Bélanger",
        "phone": "819 555-0108",
        "hourly_rate_cents": 2500,
        "priority": 80,
        "meeting": "meet",
        "bio": "Étudiant en biochimie, Samuel prépare aux examens de chimie, de mathématiques "
        "et d'anglais, en ligne le soir et la fin de semaine.",
        "courses": ["chimie-generale-cegep", "mathematiques-secondaire-4-sn", "anglais-secondaire"],
        "rules": [(2, "17:00", "21:00"), (4, "16:00", "20:00"), (6, "13:00", "18:00"), (6, "19:00", "21:00")],
    },
]

OFFICE_ACCOUNTS = [
    {
        "role": "admin",
        "email": "admin@4as.ca",
        "first_name": "Marie-Claude",
        "last_name": "Bergeron",
        "phone": "418 555-0001",
    },
    {
        "role": "staff",
        "email": "personnel@4as.ca",
        "first_name": "Julien",
        "last_name": "Lavoie",
        "phone": "418 555-0002",
    },
    {
        "role": "accountant",
        "email": "comptable@4as.ca",
        "first_name": "Nathalie",
        "last_name": "Côté",
        "phone": "418 555-0003",
    },
]

DEMO_STUDENT = {
    "email": "etudiant@4as.ca",
    "first_name": "Léa",
    "last_name": "Gagnon",
    "phone": "418 555-0100",
    "city": "Québec",
    "address": "1030 avenue des Sciences-Humaines",
    "postal_code": "G1V 0A6",
    "suspended": False,
}

STUDENT_FIRST_NAMES = [
    "Noah",
    "Emma",
    "William",
    "Olivia",
    "Thomas",
    "Alice",
    "Jacob",
    "Charlotte",
    "Liam",
    "Rosalie",
    "Nathan",
    "Zoé",
    "Félix",
    "Mia",
    "Édouard",
    "Juliette",
    "Louis",
    "Béatrice",
    "Antoine",
    "Clara",
    "Mathis",
    "Maélie",
    "Raphaël",
    "Laurence",
    "Xavier",
    "Océane",
    "Justin",
    "Marianne",
    "Hugo",
    "Ariane",
    "Vincent",
    "Jade",
    "Étienne",
    "Sarah",
    "Adam",
    "Chloé",
]
STUDENT_LAST_NAMES = [
    "Gauthier",
    "Girard",
    "Caron",
    "Poulin",
    "Ouellet",
    "Simard",
    "Boucher",
    "Dubé",
    "Paquette",
    "Cloutier",
    "Leblanc",
    "Lapointe",
    "Nadeau",
    "Martel",
    "Richard",
    "Demers",
    "Lachance",
    "Drouin",
    "Thibault",
    "Beaulieu",
    "Laflamme",
    "Vachon",
    "Gosselin",
    "Hébert",
    "Arsenault",
    "Champagne",
    "Mercier",
    "Desjardins",
    "Boivin",
    "Parent",
    "Plante",
    "Savard",
    "Bisson",
    "Charbonneau",
    "Dufour",
    "Lemieux",
]
STUDENT_EMAIL_DOMAIN = "demo.4as.ca"
# Index (in STUDENT_FIRST_NAMES) of the student whose account is suspended.
SUSPENDED_STUDENT = 17

# (city, area code, postal code prefix, street)
ADDRESSES = [
    ("Québec", "418", "G1V", "chemin Sainte-Foy"),
    ("Québec", "581", "G1R", "rue Saint-Jean"),
    ("Lévis", "418", "G6V", "rue Saint-Louis"),
    ("Montréal", "514", "H2X", "boulevard Saint-Laurent"),
    ("Laval", "450", "H7N", "boulevard des Laurentides"),
    ("Sherbrooke", "819", "J1H", "rue King Ouest"),
    ("Gatineau", "819", "J8Y", "boulevard Saint-Joseph"),
    ("Trois-Rivières", "819", "G9A", "rue des Forges"),
    ("Longueuil", "450", "J4K", "rue Saint-Charles Ouest"),
    ("Saguenay", "418", "G7H", "boulevard Talbot"),
    ("Rimouski", "418", "G5L", "avenue de la Cathédrale"),
]


def ascii_slug(text):
    """`Béatrice` -> `beatrice`: e-mail friendly, accents removed."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch in ".-")


def tutor_email(tutor):
    return f"{ascii_slug(tutor['first_name'])}.{ascii_slug(tutor['last_name'])}@4as.ca"


def student_profiles():
    """The demo students, the demo account first, each with a billing address."""
    profiles = [DEMO_STUDENT]
    for i, (first, last) in enumerate(zip(STUDENT_FIRST_NAMES, STUDENT_LAST_NAMES, strict=True)):
        city, area, postal, street = ADDRESSES[i % len(ADDRESSES)]
        profiles.append(
            {
                "email": f"{ascii_slug(first)}.{ascii_slug(last)}@{STUDENT_EMAIL_DOMAIN}",
                "first_name": first,
                "last_name": last,
                "phone": f"{area} 555-{200 + i:04d}",
                "city": city,
                "address": f"{120 + 37 * i} {street}",
                "postal_code": f"{postal} {i % 9 + 1}A{(i * 7) % 10}",
                "suspended": i == SUSPENDED_STUDENT,
            }
        )
    return profiles


# --- Coupons (dates in days relative to the day the data is generated) ----------------------

COUPONS = [
    {
        "code": "BIENVENUE15",
        "kind": "percent",
        "value": 15,
        "starts": None,
        "ends": None,
        "max": None,
        "first_order_only": True,
        "active": True,
        "description": "15 % sur la première commande",
    },
    {
        "code": "ETUDE10",
        "kind": "fixed",
        "value": 1000,
        "starts": -420,
        "ends": None,
        "max": 60,
        "active": True,
        "description": "10 $ de rabais, 60 utilisations au total",
    },
    {
        "code": "FIDELITE25",
        "kind": "fixed",
        "value": 2500,
        "starts": -300,
        "ends": None,
        "max": 10,
        "active": True,
        "description": "25 $ pour nos fidèles (10 utilisations)",
    },
    {
        "code": "EXAMENS20",
        "kind": "percent",
        "value": 20,
        "starts": -250,
        "ends": -200,
        "max": None,
        "active": True,
        "description": "20 % pendant la période d'examens (terminée)",
    },
    {
        "code": "RENTREE10",
        "kind": "percent",
        "value": 10,
        "starts": 30,
        "ends": 75,
        "max": 200,
        "active": True,
        "description": "10 % à la rentrée (bientôt valide)",
    },
    {
        "code": "PARRAINAGE",
        "kind": "fixed",
        "value": 1500,
        "starts": None,
        "ends": None,
        "max": None,
        "active": False,
        "description": "Programme de parrainage (suspendu)",
    },
]

# --- History --------------------------------------------------------------------------------------

HISTORY_MONTHS = 18
# Orders per month before seasonality and growth.
BASE_MONTHLY_ORDERS = 24
MONTHLY_GROWTH = 1.025
# Exams in December and April–June; summer is quiet.
SEASONALITY = {1: 1.0, 2: 1.0, 3: 1.1, 4: 1.3, 5: 1.4, 6: 1.1, 7: 0.35, 8: 0.5, 9: 0.8, 10: 1.1, 11: 1.3, 12: 1.2}
FUTURE_ORDERS = 26
FUTURE_DAYS = 21
ITEMS_PER_ORDER = {1: 55, 2: 25, 3: 12, 4: 8}
DURATIONS = {60: 50, 90: 35, 120: 15}
CANCELLATION_RATE = 0.06
FULL_REFUNDS = 4
PARTIAL_REFUNDS = 4
RATING_RATE = 0.3
# How past sessions were marked (SPEC §10): mostly présent, a few no-shows and late cancellations.
ATTENDANCE_RATES = {"present": 96, "no_show": 2, "late_cancel": 2}
# Présent marks left to the nightly default instead of the tutor (the rest the tutor marked within a day).
DEFAULT_MARK_RATE = 0.15
# Sessions that ended on the last local days (and today) have no mark yet: their tutors still have to give one.
UNMARKED_DAYS = 2
# The demo tutor's latest marked sessions (1 = the latest) that were a late cancellation and a no-show.
DEMO_TUTOR_MARKS = {2: "late_cancel", 4: "no_show"}

STUDENT_CANCELLATION_REASONS = [
    "Conflit d'horaire avec un examen à l'école.",
    "Je suis malade, désolée.",
    "Pratique de hockey déplacée ce soir-là.",
    "Voyage en famille pendant la relâche.",
    "Examen réussi, je n'ai plus besoin de cette séance.",
]
TUTOR_CANCELLATION_REASONS = [
    "Le tuteur est malade ; la séance est créditée.",
    "Empêchement du tuteur (examen universitaire déplacé).",
]
REFUND_REASONS = [
    "Réservation en double par erreur.",
    "Le tuteur n'a pas pu se présenter : remboursement complet.",
    "Changement d'établissement, séances restantes remboursées.",
    "Problème technique empêchant la séance.",
]
MANUAL_CREDITS = [
    # (index in student_profiles(), days ago, amount in cents, reason)
    (5, 200, 2000, "Geste commercial : séance écourtée à cause d'une panne Internet."),
    (12, 90, 1500, "Geste commercial : retard du tuteur."),
    (0, 12, 2500, "Geste commercial : lien de séance envoyé en retard."),
]

RATING_COMMENTS = [
    "Super séance, tout est plus clair !",
    "Très patiente et très claire, merci.",
    "Explications excellentes avant mon examen.",
    "Bonne séance, un peu rapide à la fin.",
    "",
    "J'ai enfin compris les dérivées.",
    "Merci pour les exercices supplémentaires.",
    "",
]
RATING_SCORES = {5: 60, 4: 28, 3: 9, 2: 3}

# Tickets: "student" is an index in student_profiles() (0 is the demo account); messages are
# (author: student/staff/admin, body, internal note?, hours after opening).
TICKETS = [
    {
        "subject": "Changer l'heure de ma séance de jeudi",
        "category": "reservation",
        "priority": "moyenne",
        "status": "resolu",
        "days_ago": 40,
        "link": "appointment",
        "student": 0,
        "messages": [
            ("student", "Bonjour, est-ce possible de déplacer ma séance de jeudi à 18 h ?", False, 0),
            (
                "staff",
                "Bonjour Léa, vous pouvez la déplacer vous-même depuis votre tableau de bord "
                "jusqu'à 24 h avant la séance, si le créneau est libre.",
                False,
                3,
            ),
            ("student", "Merci beaucoup !", False, 5),
        ],
    },
    {
        "subject": "Double prélèvement sur ma carte ?",
        "category": "paiement",
        "priority": "haute",
        "status": "en_cours",
        "days_ago": 6,
        "link": "order",
        "student": 3,
        "messages": [
            ("student", "Je vois deux montants sur mon relevé pour la même commande.", False, 0),
            (
                "staff",
                "Vérifié dans la passerelle : un seul paiement, l'autre est une préautorisation qui disparaîtra.",
                True,
                2,
            ),
            (
                "staff",
                "Bonjour, un seul paiement a été encaissé ; le second montant est une "
                "autorisation temporaire de votre banque.",
                False,
                3,
            ),
        ],
    },
    {
        "subject": "Le lien Zoom ne fonctionne pas",
        "category": "technique",
        "priority": "urgente",
        "status": "resolu",
        "days_ago": 15,
        "link": "appointment",
        "student": 6,
        "messages": [
            ("student", "La séance commence dans 10 minutes et le lien ne s'ouvre pas.", False, 0),
            ("staff", "Votre tuteur vient d'ajouter un nouveau lien dans votre tableau de bord.", False, 1),
        ],
    },
    {
        "subject": "Comment utiliser mon crédit ?",
        "category": "compte",
        "priority": "basse",
        "status": "ferme",
        "days_ago": 60,
        "link": None,
        "student": 5,
        "messages": [
            ("student", "J'ai un crédit à mon dossier : comment l'utiliser ?", False, 0),
            ("admin", "Il s'applique automatiquement à votre prochaine commande, avant la carte.", False, 20),
        ],
    },
    {
        "subject": "Tuteur absent à la séance",
        "category": "reservation",
        "priority": "haute",
        "status": "ouvert",
        "days_ago": 1,
        "link": "appointment",
        "student": 9,
        "messages": [
            ("student", "J'ai attendu 20 minutes, personne ne s'est connecté.", False, 0),
            ("staff", "Vérifier avec le tuteur avant de répondre ; crédit probable.", True, 4),
        ],
    },
    {
        "subject": "Modifier mon adresse courriel",
        "category": "compte",
        "priority": "basse",
        "status": "ouvert",
        "days_ago": 3,
        "link": None,
        "student": 14,
        "messages": [("student", "Je voudrais utiliser mon adresse du cégep plutôt que celle de l'école.", False, 0)],
    },
    {
        "subject": "Séances de groupe possibles ?",
        "category": "autre",
        "priority": "basse",
        "status": "resolu",
        "days_ago": 95,
        "link": None,
        "student": 21,
        "messages": [
            ("student", "Peut-on réserver une séance pour deux amis du même cours ?", False, 0),
            ("staff", "Pour l'instant les séances sont individuelles, mais c'est noté !", False, 6),
        ],
    },
    {
        "subject": "Erreur lors du paiement",
        "category": "paiement",
        "priority": "haute",
        "status": "en_cours",
        "days_ago": 4,
        "link": None,
        "student": 24,
        "messages": [
            ("student", "Le paiement est refusé alors que ma carte fonctionne ailleurs.", False, 0),
            ("staff", "Pouvez-vous réessayer ? Certaines banques exigent une authentification.", False, 2),
            ("student", "Toujours refusé…", False, 26),
        ],
    },
    {
        "subject": "Préparation à l'examen du ministère",
        "category": "autre",
        "priority": "moyenne",
        "status": "ouvert",
        "days_ago": 1,
        "link": None,
        "student": 28,
        "messages": [("student", "Proposez-vous un forfait de révision avant l'examen de juin ?", False, 0)],
    },
]

# The demo student's own ticket, written through the support rules (conversations.py): opened in the
# evening `days_ago` (local time), linked to their latest paid order; messages are
# (author, body, internal note?, hours after opening).
DEMO_TICKET = {
    "subject": "Reçu pour mes impôts",
    "category": "paiement",
    "days_ago": 3,
    "opened_at": "20:15",
    "messages": [
        (
            "student",
            "Bonjour, pourriez-vous m'envoyer un reçu pour mes séances de l'an dernier ? "
            "C'est pour ma déclaration de revenus.",
            False,
            0,
        ),
        (
            "staff",
            "Pas de relevé annuel dans l'outil : les reçus par commande suffisent pour l'impôt.",
            True,
            13,
        ),
        (
            "staff",
            "Bonjour Léa, chaque commande payée a son reçu officiel dans votre tableau de bord, "
            "lien « Mes commandes et reçus » : ouvrez la commande, puis son reçu. Vous pouvez "
            "l'imprimer ou l'enregistrer en PDF pour votre déclaration.",
            False,
            13.5,
        ),
    ],
}

# The demo student and the demo tutor write about their next session: (author, body, attached file name,
# (days before today, local time)); the last message is not read by the student yet. When the session
# was booked too recently for those moments, the messages are spread between the booking and now.
DEMO_CONVERSATION = [
    (
        "student",
        "Bonjour Sophie, voici les exercices sur lesquels je bloque. Pourrait-on commencer par ceux-là "
        "pendant la séance ?",
        "exercices-a-revoir.pdf",
        (3, "19:12"),
    ),
    (
        "tutor",
        "Bonjour Léa, merci, c'est reçu ! Essayez le numéro 3 de votre côté avant la séance ; on corrigera ensemble.",
        None,
        (2, "12:05"),
    ),
    ("student", "D'accord, je l'essaie ce soir. Merci !", None, (2, "20:41")),
    (
        "tutor",
        "Parfait. Ayez votre calculatrice et vos notes de cours sous la main. À bientôt !",
        None,
        (1, "17:26"),
    ),
]
DEMO_PDF_LINES = [
    "Exercices à revoir",
    "1. Trouver la règle de la fonction qui passe par (2, 5) et (4, 11).",
    "2. Résoudre 2x² – 3x – 2 = 0.",
    "3. Déterminer le domaine et l'image de f(x) = –2(x – 1)² + 8.",
]

EXCEPTION_NOTES = {
    "closed_day": "Congé personnel",
    "closed_hours": "Rendez-vous médical",
    "open": "Disponibilités supplémentaires avant les examens",
}
PAST_TIME_OFF_REASON = "Vacances"
COMING_TIME_OFF_REASONS = ["Congrès", "Période d'examens à l'université"]

# --- Attendance and course requests -----------------------------------------------------------------

# Notes to the student with a mark: (who marked it: tutor/staff, note).
ATTENDANCE_NOTES = {
    "no_show": [
        ("tutor", "Je t'ai attendu 20 minutes sur le lien de la séance. Écris-moi pour qu'on reprenne la matière."),
        ("tutor", "Absent sans nouvelles. N'oublie pas : tu peux annuler en ligne jusqu'à 2 h avant la séance."),
        ("staff", "Absence constatée avec le tuteur. Communiquez avec nous si vous avez eu un problème technique."),
    ],
    "late_cancel": [
        ("staff", "Annulation reçue par téléphone 3 h avant la séance : une partie vous est remise en crédit."),
        ("tutor", "Annulation reçue par message une heure avant la séance. Bon courage pour ton examen !"),
        ("staff", "Annulation tardive signalée par courriel le matin même : crédit partiel selon la politique."),
    ],
}
# The office corrects one of the demo tutor's sessions of a month already paid to her.
LATE_CORRECTION_NOTE = (
    "Votre courriel d'annulation, envoyé 5 h avant la séance, nous a échappé : la séance est corrigée en "
    "annulation tardive et une partie vous est remise en crédit."
)
# The demo tutor asks to teach one more course.
DEMO_COURSE_REQUEST = {
    "course": "chimie-generale-cegep",
    "days_ago": 3,
    "message": "J'ai été monitrice de laboratoire en chimie générale pendant deux sessions au cégep "
    "et j'ai encore tous mes exercices de stœchiométrie.",
}
