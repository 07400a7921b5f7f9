"""The site's own texts in French and German: categories, cookie purposes and durations.

cookieguard ships its banner in English, French and German; what the registry
declares (here, Kopano's published policy) is the site's to translate. Each
catalogue uses the keys ``category.<name>.label``, ``category.<name>.description``,
``cookie.<name>.purpose``, ``cookie.<name>.duration`` (``<name>`` as declared,
``_pk_id.*`` for a pattern) and ``service.<name>.purpose`` (service labels are brand
names, the same in every language), and :func:`register` adds them for this registry
only.
"""

from __future__ import annotations

from cookieguard import Registry, i18n

_MATOMO_FR = "Nous utilisons Matomo (Piwik) pour mesurer le succès de notre site web. "
_MATOMO_DE = "Wir verwenden Matomo (Piwik), um den Erfolg unserer Website zu messen. "
_FAQ = "https://matomo.org/faq/general/faq_146/"

CATALOGUES: dict[str, dict[str, str]] = {
    "fr": {
        "category.necessary.label": "Nécessaires",
        "category.necessary.description": "Indispensables au fonctionnement du site : "
        "sessions et sécurité.",
        "category.kopano.label": "Cookies Kopano",
        "category.kopano.description": "Nécessaires à la boutique en ligne de Kopano et aux "
        "tickets de développement cités dans les notes de version.",
        "category.commercial.label": "Commerciaux",
        "category.commercial.description": "Déposés par Google et YouTube pour la publicité "
        "et les vidéos intégrées.",
        "category.not_required.label": "Non requis",
        "category.not_required.description": "Mesure d’audience avec Matomo et protection "
        "contre les robots par Akamai.",
        "category.cookie_management.label": "Gestion des cookies",
        "category.cookie_management.description": "Mémorisent les choix que vous faites dans "
        "cette fenêtre.",
        "cookie.PHPSESSID.purpose": "Ce cookie est propre aux applications PHP. Il enregistre "
        "et identifie l’identifiant de session unique de l’utilisateur pour gérer sa session "
        "sur le site. C’est un cookie de session, supprimé à la fermeture de toutes les "
        "fenêtres du navigateur.",
        "cookie.PHPSESSID.duration": "session",
        "cookie.__cfduid.purpose": "Ce cookie est déposé par Cloudflare. Il sert à identifier "
        "chaque client derrière une adresse IP partagée et à appliquer les réglages de "
        "sécurité client par client. Il ne correspond à aucun identifiant d’utilisateur de "
        "l’application et ne contient aucune donnée personnelle.",
        "cookie.__cfduid.duration": "1 mois",
        "cookie.wp_kopano_shop_id.purpose": "Ce cookie est nécessaire pour utiliser la "
        "boutique en ligne de Kopano.",
        "cookie.atlassian.xsrf.token.purpose": "Nos notes de version renvoient à des tickets "
        "de développement. Ce cookie est nécessaire pour cela.",
        "cookie.atlassian.xsrf.token.duration": "session",
        "cookie.IDE.purpose": "Utilisé par Google DoubleClick, il enregistre la façon dont "
        "l’utilisateur utilise le site et les publicités vues avant sa visite, pour lui "
        "présenter des publicités adaptées à son profil.",
        "cookie.IDE.duration": "1 an",
        "cookie.NID.purpose": "Ce cookie sert à établir un profil selon les centres d’intérêt "
        "de l’utilisateur et à lui afficher des publicités personnalisées. Sur notre site, il "
        "est déposé par le service Google reCAPTCHA.",
        "cookie.NID.duration": "6 mois",
        "cookie.GPS.purpose": "Ce cookie est déposé par YouTube et enregistre un identifiant "
        "unique pour suivre les utilisateurs selon leur position géographique.",
        "cookie.GPS.duration": "30 minutes",
        "cookie.VISITOR_INFO1_LIVE.purpose": "Ce cookie est déposé par YouTube. Il suit les "
        "informations des vidéos YouTube intégrées à un site.",
        "cookie.VISITOR_INFO1_LIVE.duration": "6 mois",
        "cookie.YSC.purpose": "Ce cookie est déposé par YouTube et compte les vues des vidéos "
        "intégrées.",
        "cookie.YSC.duration": "session",
        "cookie._pk_id.*.purpose": _MATOMO_FR + "Ce cookie reconnaît un visiteur qui revient. "
        "En savoir plus : " + _FAQ,
        "cookie._pk_id.*.duration": "13 mois",
        "cookie._pk_ses.*.purpose": _MATOMO_FR + "Ce cookie de courte durée conserve "
        "temporairement les données de la visite. En savoir plus : " + _FAQ,
        "cookie._pk_ses.*.duration": "30 minutes",
        "cookie.bm_sz.purpose": "Akamai Bot Manager / prévention de la fraude",
        "cookie.bm_sz.duration": "4 heures",
        "cookie._abck.purpose": "Akamai Bot Manager – cookie de sécurité",
        "cookie._abck.duration": "1 an",
        "cookie.cookielawinfo-checkbox-*.purpose": "Ce cookie est déposé par le plugin GDPR "
        "Cookie Consent. Il enregistre le consentement de l’utilisateur pour les cookies des "
        "catégories « Kopano », « Commerciaux », « Non requis », « Nécessaires » ou « Non "
        "nécessaires », un cookie par catégorie.",
        "cookie.cookielawinfo-checkbox-*.duration": "1 an",
        "cookie.viewed_cookie_policy.purpose": "Ce cookie est déposé par le plugin GDPR Cookie "
        "Consent et enregistre si l’utilisateur a consenti ou non aux cookies. Il ne contient "
        "aucune donnée personnelle.",
        "cookie.viewed_cookie_policy.duration": "1 an",
        "service.youtube.purpose": "Les vidéos intégrées à nos pages produits.",
        "service.doubleclick.purpose": "Des publicités adaptées au profil du visiteur.",
        "service.recaptcha.purpose": "Distingue les personnes des robots sur nos formulaires.",
        "service.matomo.purpose": "Mesure d’audience : comment notre site est utilisé.",
        "service.akamai.purpose": "Détection des robots et prévention de la fraude.",
    },
    "de": {
        "category.necessary.label": "Notwendig",
        "category.necessary.description": "Für den Betrieb der Website nötig: Sitzungen und "
        "Sicherheit.",
        "category.kopano.label": "Kopano-Cookies",
        "category.kopano.description": "Nötig für den Kopano-Webshop und die Entwickler-"
        "Tickets, auf die die Versionshinweise verweisen.",
        "category.commercial.label": "Kommerziell",
        "category.commercial.description": "Von Google und YouTube gesetzt, für Werbung und "
        "eingebettete Videos.",
        "category.not_required.label": "Nicht erforderlich",
        "category.not_required.description": "Webanalyse mit Matomo und Bot-Schutz durch Akamai.",
        "category.cookie_management.label": "Cookie-Verwaltung",
        "category.cookie_management.description": "Speichern die Auswahl, die Sie in diesem "
        "Dialog treffen.",
        "cookie.PHPSESSID.purpose": "Dieses Cookie gehört zu PHP-Anwendungen. Es speichert und "
        "erkennt die eindeutige Sitzungs-ID eines Benutzers, um seine Sitzung auf der Website "
        "zu verwalten. Es ist ein Sitzungscookie und wird gelöscht, wenn alle Browserfenster "
        "geschlossen sind.",
        "cookie.PHPSESSID.duration": "Sitzung",
        "cookie.__cfduid.purpose": "Das Cookie wird von Cloudflare gesetzt. Es erkennt einzelne "
        "Clients hinter einer gemeinsamen IP-Adresse und wendet Sicherheitseinstellungen je "
        "Client an. Es entspricht keiner Benutzer-ID der Webanwendung und speichert keine "
        "personenbezogenen Daten.",
        "cookie.__cfduid.duration": "1 Monat",
        "cookie.wp_kopano_shop_id.purpose": "Dieses Cookie ist nötig, wenn Sie den Kopano-"
        "Webshop nutzen möchten.",
        "cookie.atlassian.xsrf.token.purpose": "Unsere Versionshinweise verweisen auf "
        "Entwickler-Tickets. Dafür ist dieses Cookie nötig.",
        "cookie.atlassian.xsrf.token.duration": "Sitzung",
        "cookie.IDE.purpose": "Wird von Google DoubleClick verwendet und speichert, wie der "
        "Benutzer die Website nutzt und welche Werbung er vor dem Besuch gesehen hat, um ihm "
        "zu seinem Profil passende Werbung zu zeigen.",
        "cookie.IDE.duration": "1 Jahr",
        "cookie.NID.purpose": "Dieses Cookie erstellt ein Profil nach den Interessen des "
        "Benutzers und zeigt ihm personalisierte Werbung. Auf unserer Website setzt es der "
        "Dienst Google reCAPTCHA.",
        "cookie.NID.duration": "6 Monate",
        "cookie.GPS.purpose": "Dieses Cookie wird von YouTube gesetzt und speichert eine "
        "eindeutige ID, um Benutzer nach ihrem geografischen Standort zu verfolgen.",
        "cookie.GPS.duration": "30 Minuten",
        "cookie.VISITOR_INFO1_LIVE.purpose": "Dieses Cookie wird von YouTube gesetzt. Es "
        "verfolgt die Informationen der auf einer Website eingebetteten YouTube-Videos.",
        "cookie.VISITOR_INFO1_LIVE.duration": "6 Monate",
        "cookie.YSC.purpose": "Dieses Cookie wird von YouTube gesetzt und zählt die Aufrufe "
        "eingebetteter Videos.",
        "cookie.YSC.duration": "Sitzung",
        "cookie._pk_id.*.purpose": _MATOMO_DE + "Dieses Cookie erkennt wiederkehrende "
        "Besucher. Mehr dazu: " + _FAQ,
        "cookie._pk_id.*.duration": "13 Monate",
        "cookie._pk_ses.*.purpose": _MATOMO_DE + "Dieses kurzlebige Cookie speichert Daten des "
        "Besuchs vorübergehend. Mehr dazu: " + _FAQ,
        "cookie._pk_ses.*.duration": "30 Minuten",
        "cookie.bm_sz.purpose": "Akamai Bot Manager / Betrugsprävention",
        "cookie.bm_sz.duration": "4 Stunden",
        "cookie._abck.purpose": "Akamai Bot Manager – Sicherheitscookie",
        "cookie._abck.duration": "1 Jahr",
        "cookie.cookielawinfo-checkbox-*.purpose": "Dieses Cookie wird vom Plugin GDPR Cookie "
        "Consent gesetzt. Es speichert die Einwilligung des Benutzers für die Cookies der "
        "Kategorien „Kopano“, „Kommerziell“, „Nicht erforderlich“, „Notwendig“ oder „Nicht "
        "notwendig“, ein Cookie je Kategorie.",
        "cookie.cookielawinfo-checkbox-*.duration": "1 Jahr",
        "cookie.viewed_cookie_policy.purpose": "Das Cookie wird vom Plugin GDPR Cookie Consent "
        "gesetzt und speichert, ob der Benutzer der Verwendung von Cookies zugestimmt hat. Es "
        "speichert keine personenbezogenen Daten.",
        "cookie.viewed_cookie_policy.duration": "1 Jahr",
        "service.youtube.purpose": "Die in unsere Produktseiten eingebetteten Videos.",
        "service.doubleclick.purpose": "Werbung, die zum Profil des Besuchers passt.",
        "service.recaptcha.purpose": "Unterscheidet auf unseren Formularen Menschen von Robotern.",
        "service.matomo.purpose": "Webanalyse: wie unsere Website genutzt wird.",
        "service.akamai.purpose": "Bot-Erkennung und Betrugsprävention.",
    },
}


def register(registry: Registry) -> None:
    """Add the catalogues for ``registry``, next to the shipped banner translations."""
    for lang, catalogue in CATALOGUES.items():
        i18n.add_language(lang, catalogue, registry=registry)
