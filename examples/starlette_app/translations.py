"""The portal's own texts in French and German: categories, cookie purposes and durations.

cookieguard ships its banner in English, French and German; what the registry
declares is the site's to translate. Each catalogue uses the keys
``category.<name>.label``, ``category.<name>.description``,
``cookie.<name>.purpose``, ``cookie.<name>.duration`` (``<name>`` as declared) and
``service.<name>.purpose`` (a service's label is a brand name, the same in every
language), and :func:`register` adds them for this registry only.
"""

from __future__ import annotations

from cookieguard import Registry, i18n

CATALOGUES: dict[str, dict[str, str]] = {
    "fr": {
        "category.necessary.label": "Strictement nécessaires",
        "category.necessary.description": "Connexion, sécurité et vos choix en matière de "
        "cookies. Le portail ne peut pas fonctionner sans eux : ils ne demandent pas de "
        "consentement.",
        "category.preferences.label": "Préférences",
        "category.preferences.description": "Mémorisent les réglages que vous avez choisis, "
        "comme la langue de l’interface.",
        "category.statistics.label": "Statistiques",
        "category.statistics.description": "Mesure d’audience avec Matomo : quels jeux de "
        "données sont consultés, et à quelle fréquence.",
        "category.marketing.label": "Marketing",
        "category.marketing.description": "Des partenaires publicitaires mesurent les campagnes "
        "qui amènent des visiteurs ici.",
        "cookie.sessionid.purpose": "Vous reconnaître d’une page à l’autre",
        "cookie.sessionid.duration": "2 semaines",
        "cookie.csrftoken.purpose": "Récupérer des données par des appels à l’API",
        "cookie.csrftoken.duration": "1 an",
        "cookie.django_language.purpose": "Mémoriser la langue du visiteur",
        "cookie.django_language.duration": "1 an",
        "cookie._pk_id.*.purpose": "Reconnaître un visiteur qui revient",
        "cookie._pk_id.*.duration": "13 mois",
        "cookie._pk_ses.*.purpose": "Regrouper les pages d’une même visite",
        "cookie._pk_ses.*.duration": "30 minutes",
        "cookie._gcl_au.purpose": "Attribuer une visite à la campagne publicitaire qui l’a amenée",
        "cookie._gcl_au.duration": "3 mois",
        "cookie._fbp.purpose": "Mesurer les visites venues des publicités Facebook et Instagram",
        "cookie._fbp.duration": "3 mois",
        "service.matomo.purpose": "Mesure d’audience : quels jeux de données sont consultés, et "
        "à quelle fréquence.",
    },
    "de": {
        "category.necessary.label": "Unbedingt erforderlich",
        "category.necessary.description": "Anmeldung, Sicherheit und Ihre Cookie-Auswahl. Ohne "
        "sie funktioniert das Portal nicht, daher brauchen sie keine Einwilligung.",
        "category.preferences.label": "Präferenzen",
        "category.preferences.description": "Speichern Einstellungen, die Sie gewählt haben, "
        "etwa die Sprache der Oberfläche.",
        "category.statistics.label": "Statistik",
        "category.statistics.description": "Webanalyse mit Matomo: welche Datensätze wie oft "
        "aufgerufen werden.",
        "category.marketing.label": "Marketing",
        "category.marketing.description": "Werbepartner messen die Kampagnen, über die "
        "Besucher hierher kommen.",
        "cookie.sessionid.purpose": "Sie von einer Seite zur nächsten wiedererkennen",
        "cookie.sessionid.duration": "2 Wochen",
        "cookie.csrftoken.purpose": "Daten über API-Aufrufe abrufen",
        "cookie.csrftoken.duration": "1 Jahr",
        "cookie.django_language.purpose": "Die Sprache des Besuchers speichern",
        "cookie.django_language.duration": "1 Jahr",
        "cookie._pk_id.*.purpose": "Wiederkehrende Besucher erkennen",
        "cookie._pk_id.*.duration": "13 Monate",
        "cookie._pk_ses.*.purpose": "Die Seiten eines Besuchs zusammenfassen",
        "cookie._pk_ses.*.duration": "30 Minuten",
        "cookie._gcl_au.purpose": "Einen Besuch der Werbekampagne zuordnen, die zu ihm führte",
        "cookie._gcl_au.duration": "3 Monate",
        "cookie._fbp.purpose": "Besuche messen, die von Facebook- und Instagram-Werbung kommen",
        "cookie._fbp.duration": "3 Monate",
        "service.matomo.purpose": "Webanalyse: welche Datensätze wie oft aufgerufen werden.",
    },
}


def register(registry: Registry) -> None:
    """Add the catalogues for ``registry``, next to the shipped banner translations."""
    for lang, catalogue in CATALOGUES.items():
        i18n.add_language(lang, catalogue, registry=registry)
