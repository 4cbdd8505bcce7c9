"""The dashboard's texts in Dutch, keyed by their English text (broker.web.dashboard.i18n).

StUF terms (zaak, zender, berichtcode, referentienummer) are the same in both languages.
"""

DUTCH: dict[str, str] = {
    # frame
    "Dashboard": "Dashboard", "Skip to the content": "Naar de inhoud", "Main menu": "Hoofdmenu",
    "Overview": "Overzicht", "Messages": "Berichten", "Targets": "Doelsystemen", "Audit log": "Auditlog",
    "Mappings": "Mappings", "Users": "Gebruikers", "Access log": "Inzagelog", "Language": "Taal",
    "Change": "Wijzigen", "Sign out": "Uitloggen", "masked": "afgeschermd",
    "Personal data (BSN, names, addresses) is masked for your role":
        "Persoonsgegevens (BSN, namen, adressen) zijn voor uw rol afgeschermd",
    "Times are Dutch local time (Europe/Amsterdam); hover over a time for UTC.":
        "Tijden zijn Nederlandse tijd (Europe/Amsterdam); wijs een tijd aan voor UTC.",
    "viewer": "kijker", "operator": "beheerder", "administrator": "applicatiebeheerder",
    # sign in
    "Sign in": "Inloggen", "User name": "Gebruikersnaam", "Password": "Wachtwoord",
    "There are no accounts yet. Create the first administrator on the broker's machine:":
        "Er zijn nog geen accounts. Maak de eerste applicatiebeheerder aan op de machine van de broker:",
    "Unknown user name or wrong password.": "Onbekende gebruikersnaam of verkeerd wachtwoord.",
    "Too many failed sign-ins from this address; try again later.":
        "Te veel mislukte inlogpogingen vanaf dit adres; probeer het later opnieuw.",
    "This account is locked after repeated failed sign-ins; try again in {minutes} minutes, or ask an administrator.":
        "Dit account is geblokkeerd na herhaalde mislukte inlogpogingen; probeer het over {minutes} minuten "
        "opnieuw, of vraag een applicatiebeheerder.",
    # errors
    "Not allowed": "Niet toegestaan", "Your role does not allow this.": "Uw rol staat dit niet toe.",
    "Not found": "Niet gevonden", "There is no page at this address.": "Op dit adres staat geen pagina.",
    "This page cannot be used that way.": "Deze pagina kan zo niet worden gebruikt.",
    "Something went wrong": "Er ging iets mis",
    "The dashboard could not show this page; the error is in the broker's log.":
        "Het dashboard kon deze pagina niet tonen; de fout staat in het log van de broker.",
    "Error": "Fout", "The request could not be handled.": "Het verzoek kon niet worden verwerkt.",
    "Back to the overview": "Terug naar het overzicht", "No message {id}.": "Geen bericht {id}.",
    "No delivery {id}.": "Geen aflevering {id}.", "No target {name}.": "Geen doelsysteem {name}.",
    "Nothing exported": "Niets geëxporteerd",
    # states and outcomes
    "done": "afgehandeld", "queued": "in wachtrij", "partial": "gedeeltelijk", "dead": "mislukt",
    "ok": "goed", "fault": "fout", "rejected": "geweigerd", "pending": "wacht", "in_progress": "bezig",
    "delivered": "afgeleverd", "retrying": "opnieuw", "cancelled": "geannuleerd", "retry": "opnieuw",
    "closed": "gesloten", "open": "open", "half_open": "half open", "paused": "gepauzeerd",
    "received": "ontvangen", "answered": "beantwoord", "delivery": "aflevering", "cancel": "annuleren",
    "answered with a fault": "beantwoord met een foutbericht",
    "retried by an operator": "opnieuw aangeboden door een beheerder",
    "cancelled by an operator": "geannuleerd door een beheerder",
    "answered to the sender with a fault": "aan de zender beantwoord met een foutbericht",
    "was dead": "was mislukt", "was cancelled": "was geannuleerd", "was retrying": "werd opnieuw geprobeerd",
    "was pending": "wachtte", "failed": "mislukt",
    # overview
    "value": "waarde", "last hour": "laatste uur", "last day": "laatste dag", "no messages": "geen berichten",
    "messages last hour": "berichten laatste uur", "at least": "minstens", "deliveries waiting": "afleveringen wachten",
    "dead deliveries": "mislukte afleveringen", "target": "doelsysteem", "circuit": "circuit",
    "backlog": "achterstand", "last error": "laatste fout", "{n} failures": "{n} fouten",
    "no deliveries yet": "nog geen afleveringen", "Throughput": "Doorvoer", "sampled": "steekproef",
    "Latency": "Responstijd", "Backlog of the queue": "Achterstand van de wachtrij", "Delivery rate": "Afleveringen",
    "Per state": "Per status", "Per operation": "Per operatie", "Per zender": "Per zender",
    "Dead letters needing attention": "Mislukte afleveringen die aandacht vragen",
    "Retry {n} dead delivery?": "{n} mislukte aflevering opnieuw aanbieden?",
    "Retry {n} dead deliveries?": "{n} mislukte afleveringen opnieuw aanbieden?",
    "Retry {n} dead delivery": "{n} mislukte aflevering opnieuw aanbieden",
    "Retry all {n} dead deliveries": "Alle {n} mislukte afleveringen opnieuw aanbieden",
    "message": "bericht", "operation": "operatie", "zaak": "zaak", "attempts": "pogingen", "error": "fout",
    "since": "sinds", "none": "geen", "Messages received": "Ontvangen berichten",
    "Latency of the answers": "Responstijd van de antwoorden", "Deliveries waiting": "Wachtende afleveringen",
    "Delivery attempts (failed in red)": "Afleverpogingen (mislukt in rood)",
    # live and ranges
    "As of": "Stand van", "Pause auto-refresh": "Automatisch verversen pauzeren",
    "Resume auto-refresh": "Automatisch verversen hervatten", "Time range": "Periode", "From": "Vanaf",
    "Until": "Tot", "now": "nu", "Show": "Tonen", "Range": "Periode",
    # targets
    "Target": "Doelsysteem", "no targets": "geen doelsystemen", "waiting": "wachtend",
    "failures in a row": "fouten op rij", "State": "Status",
    "Paused by {by}: its {n} waiting deliveries are held (not sent) until it is resumed.":
        "Gepauzeerd door {by}: de {n} wachtende afleveringen worden vastgehouden (niet verstuurd) tot het "
        "doelsysteem wordt hervat.",
    "Paused since": "Gepauzeerd sinds",
    "The circuit is {state} after repeated failures; the next try is at":
        "Het circuit is {state} na herhaalde fouten; de volgende poging is om",
    "Resume {name}? {n} held delivery goes out.": "{name} hervatten? {n} vastgehouden aflevering wordt verstuurd.",
    "Resume {name}? {n} held deliveries go out.": "{name} hervatten? {n} vastgehouden afleveringen worden verstuurd.",
    "Pause {name}? {n} waiting delivery will be held.": "{name} pauzeren? {n} wachtende aflevering wordt vastgehouden.",
    "Pause {name}? {n} waiting deliveries will be held.":
        "{name} pauzeren? {n} wachtende afleveringen worden vastgehouden.",
    "Resume": "Hervatten", "Pause": "Pauzeren", "Reason (optional)": "Reden (optioneel)",
    "Retry {n} dead delivery of {name}?": "{n} mislukte aflevering aan {name} opnieuw aanbieden?",
    "Retry {n} dead deliveries of {name}?": "{n} mislukte afleveringen aan {name} opnieuw aanbieden?",
    "Cancel {n} dead delivery of {name}? It will not be sent again.":
        "{n} mislukte aflevering aan {name} annuleren? Die wordt niet meer verstuurd.",
    "Cancel {n} dead deliveries of {name}? They will not be sent again.":
        "{n} mislukte afleveringen aan {name} annuleren? Die worden niet meer verstuurd.",
    "Cancel {n} dead delivery": "{n} mislukte aflevering annuleren",
    "Cancel all {n} dead deliveries": "Alle {n} mislukte afleveringen annuleren",
    "Messages to this target": "Berichten naar dit doelsysteem", "its dead deliveries": "de mislukte afleveringen",
    "Backlog": "Achterstand", "Error rate": "Foutpercentage", "Last errors": "Laatste fouten", "when": "wanneer",
    "outcome": "uitkomst", "Backlog of {target}": "Achterstand van {target}",
    "Deliveries of {target} (failed attempts in red)": "Afleveringen aan {target} (mislukte pogingen in rood)",
    "Error rate of {target}": "Foutpercentage van {target}", "Latency of {target}": "Responstijd van {target}",
    "Target {name} paused: {n} deliveries are held until it is resumed.":
        "Doelsysteem {name} gepauzeerd: {n} afleveringen worden vastgehouden tot het wordt hervat.",
    "Target {name} was paused already.": "Doelsysteem {name} was al gepauzeerd.",
    "Target {name} resumed: {n} held deliveries go out now.":
        "Doelsysteem {name} hervat: {n} vastgehouden afleveringen worden nu verstuurd.",
    "Target {name} was not paused.": "Doelsysteem {name} was niet gepauzeerd.",
    "{n} dead deliveries of {name} queued again.": "{n} mislukte afleveringen aan {name} opnieuw in de wachtrij.",
    "{n} dead deliveries of {name} cancelled.": "{n} mislukte afleveringen aan {name} geannuleerd.",
    # the message list
    "any": "alle", "Outcome": "Uitkomst", "Operation": "Operatie", "Delivery state": "Afleverstatus",
    "Berichtcode": "Berichtcode", "Zender": "Zender", "applicatie": "applicatie", "Zaak": "Zaak",
    "part of the identificatie": "deel van de identificatie", "Referentienummer": "Referentienummer",
    "part of it": "een deel ervan",
    "a date or date and time, as 06-12-2026 08:00 or 2026-12-06T08:00; Dutch time unless an offset is given":
        "een datum of datum en tijd, als 06-12-2026 08:00 of 2026-12-06T08:00; Nederlandse tijd tenzij een "
        "verschil met UTC is opgegeven",
    "searching by BSN": "zoeken op BSN", "Filter": "Filteren", "clear": "wissen", "BSN": "BSN",
    "The search is recorded in the access log; the BSN itself is not kept.":
        "De zoekvraag komt in het inzagelog; het BSN zelf wordt niet bewaard.",
    "Search by BSN": "Zoeken op BSN", "recorded in the access log": "wordt vastgelegd in het inzagelog",
    "Nothing is listed until every filter can be read.": "Er wordt niets getoond tot elk filter leesbaar is.",
    "Export as CSV": "Exporteren als CSV",
    "Retry {n} dead delivery of the messages this filter selects?":
        "{n} mislukte aflevering van de gefilterde berichten opnieuw aanbieden?",
    "Retry {n} dead deliveries of the messages this filter selects?":
        "{n} mislukte afleveringen van de gefilterde berichten opnieuw aanbieden?",
    "Retry {n} dead delivery of all messages?": "{n} mislukte aflevering van alle berichten opnieuw aanbieden?",
    "Retry {n} dead deliveries of all messages?": "{n} mislukte afleveringen van alle berichten opnieuw aanbieden?",
    "Retry {n} dead delivery of these messages": "{n} mislukte aflevering van deze berichten opnieuw aanbieden",
    "Retry {n} dead deliveries of these messages": "{n} mislukte afleveringen van deze berichten opnieuw aanbieden",
    "Retry {n} dead delivery of all messages": "{n} mislukte aflevering van alle berichten opnieuw aanbieden",
    "Retry {n} dead deliveries of all messages": "{n} mislukte afleveringen van alle berichten opnieuw aanbieden",
    "Cancel {n} dead delivery? It will not be sent again.":
        "{n} mislukte aflevering annuleren? Die wordt niet meer verstuurd.",
    "Cancel {n} dead deliveries? They will not be sent again.":
        "{n} mislukte afleveringen annuleren? Die worden niet meer verstuurd.",
    "Cancel {n} dead deliveries": "{n} mislukte afleveringen annuleren",
    "the first {n}; act again for the rest": "de eerste {n}; herhaal voor de rest",
    "code": "code", "answer": "antwoord", "zender": "zender", "referentienummer": "referentienummer",
    "state": "status", "deliveries": "afleveringen", "No messages match.": "Geen berichten gevonden.",
    "Pages": "Pagina's", "newer": "nieuwer", "older": "ouder",
    "your role may not search by BSN": "uw rol mag niet op BSN zoeken",
    "BSN: not a valid BSN (nine digits that pass the 11-proef).":
        "BSN: geen geldig BSN (negen cijfers die de 11-proef doorstaan).",
    "The BSN index is still being built; older messages may be missing. Search again shortly.":
        "De BSN-index wordt nog opgebouwd; oudere berichten kunnen ontbreken. Zoek zo meteen opnieuw.",
    "Nothing retried: {why}.": "Niets opnieuw aangeboden: {why}.", "Nothing cancelled: {why}.": "Niets geannuleerd: {why}.",
    "no deliveries were selected": "er waren geen afleveringen geselecteerd",
    "Nothing done: no deliveries were selected.": "Niets gedaan: er waren geen afleveringen geselecteerd.",
    "{n} dead deliveries queued again.": "{n} mislukte afleveringen opnieuw in de wachtrij.",
    "{n} dead deliveries cancelled.": "{n} mislukte afleveringen geannuleerd.",
    "{n} of {shown} dead deliveries queued again; the others were no longer dead.":
        "{n} van {shown} mislukte afleveringen opnieuw in de wachtrij; de andere waren niet meer mislukt.",
    "{n} of {shown} dead deliveries cancelled; the others were no longer dead.":
        "{n} van {shown} mislukte afleveringen geannuleerd; de andere waren niet meer mislukt.",
    "Delivery {id} queued again.": "Aflevering {id} opnieuw in de wachtrij.",
    "Delivery {id} was not in a state to retry.": "Aflevering {id} kon niet opnieuw worden aangeboden.",
    "Delivery {id} cancelled.": "Aflevering {id} geannuleerd.",
    "Delivery {id} could not be cancelled.": "Aflevering {id} kon niet worden geannuleerd.",
    # one message
    "Message": "Bericht", "Personal data is masked for your role.": "Persoonsgegevens zijn voor uw rol afgeschermd.",
    "Download the raw message": "Het bericht zoals ontvangen downloaden", "ontvanger": "ontvanger",
    "object": "object", "in": "in", "repeats": "herhalingen", "tolerated": "getolereerd",
    "accepted under these tolerances for a known client (applications.yaml)":
        "aanvaard onder deze toleranties voor een bekende client (applications.yaml)",
    "{a} attempt(s), {r} replay(s) of the stored answer": "{a} poging(en), {r} keer het bewaarde antwoord herhaald",
    "Deliveries": "Afleveringen", "primary": "primair", "held: target paused": "vastgehouden: doelsysteem gepauzeerd",
    "{n} attempt": "{n} poging", "{n} attempts": "{n} pogingen",
    "Waits behind delivery {id} ({state}) of message {message} to the same target: deliveries of one zaak go in the order received.":
        "Wacht op aflevering {id} ({state}) van bericht {message} aan hetzelfde doelsysteem: afleveringen van "
        "één zaak gaan in de volgorde van ontvangst.",
    "Go to message {id}": "Naar bericht {id}",
    "Held: target {target} was paused by {by}.": "Vastgehouden: doelsysteem {target} is gepauzeerd door {by}.",
    "Held: the circuit of target {target} is open after repeated failures; the next try is at":
        "Vastgehouden: het circuit van doelsysteem {target} is open na herhaalde fouten; de volgende poging is om",
    "Next attempt at": "Volgende poging om",
    "Due now: the next free worker sends it.": "Nu aan de beurt: de eerstvolgende vrije worker verstuurt het.",
    "Retry": "Opnieuw aanbieden", "Cancel delivery {id}?": "Aflevering {id} annuleren?", "Cancel": "Annuleren",
    "Attempts of delivery {id}": "Pogingen van aflevering {id}", "started": "gestart", "worker": "worker",
    "the target's answer": "het antwoord van het doelsysteem",
    "No deliveries (answered by the broker itself, or refused).":
        "Geen afleveringen (door de broker zelf beantwoord, of geweigerd).",
    "Timeline": "Tijdlijn", "Case model": "Zaakmodel", "Not available": "Niet beschikbaar",
    "payload purged": "inhoud verwijderd", "Request": "Verzoek", "Answer": "Antwoord",
    "The payload was purged after the retention period.": "De inhoud is na de bewaartermijn verwijderd.",
    "The payload of message {id} was purged after the retention period.":
        "De inhoud van bericht {id} is na de bewaartermijn verwijderd.",
    "{code} {operation} from {zender}": "{code} {operation} van {zender}", "unknown operation": "onbekende operatie",
    "delivery {id} to {target} ({mode})": "aflevering {id} aan {target} ({mode})",
    "attempt {n} to {target}: {outcome}": "poging {n} aan {target}: {outcome}",
    "{actor}: {action} of delivery {id}": "{actor}: {action} van aflevering {id}",
    "{actor}: target {target} paused": "{actor}: doelsysteem {target} gepauzeerd",
    "delivery {id} cancelled": "aflevering {id} geannuleerd",
    # logs and accounts
    "Action": "Actie", "who": "wie", "what": "wat", "detail": "details", "nothing recorded": "niets vastgelegd",
    "Access log of personal data": "Inzagelog van persoonsgegevens",
    "Every time a message was shown to someone with its personal data unmasked, found by a BSN or downloaded.":
        "Elke keer dat een bericht met zichtbare persoonsgegevens werd getoond, via een BSN werd gevonden of "
        "werd gedownload.",
    "User": "Gebruiker", "user": "gebruiker", "role": "rol", "created": "aangemaakt", "last sign-in": "laatst ingelogd",
    "password": "wachtwoord", "Role of {name}": "Rol van {name}", "Set": "Instellen", "new password": "nieuw wachtwoord",
    "New password for {name}": "Nieuw wachtwoord voor {name}", "Add a user": "Gebruiker toevoegen", "Role": "Rol",
    "Add": "Toevoegen", "User {name} added as {role}.": "Gebruiker {name} toegevoegd als {role}.",
    "Password of {name} changed; their other sessions have ended.":
        "Wachtwoord van {name} gewijzigd; de andere sessies van deze gebruiker zijn beëindigd.",
    "{name} is now {role}.": "{name} is nu {role}.",
    "You cannot take the administrator role from yourself.": "U kunt uzelf de rol applicatiebeheerder niet afnemen.",
    # afnemerindicaties (StUF-BG)
    "Afnemerindicaties": "Afnemerindicaties",
    "Which application is told of changes to which person (StUF-BG npsLk01).":
        "Welke applicatie wijzigingen van welke persoon ontvangt (StUF-BG npsLk01).",
    "application": "applicatie", "Application": "Applicatie", "placed": "geplaatst", "by": "door",
    "endpoint": "endpoint", "remove": "verwijderen", "Remove": "Verwijderen", "yes": "ja",
    "none: not told": "geen: ontvangt niets", "no indicaties": "geen indicaties",
    "vraag": "vraag", "kennisgeving": "kennisgeving", "beheerder": "beheerder",
    "Remove the indicatie of {afnemer}": "Verwijder de indicatie van {afnemer}",
    "The first {n} of {total}.": "De eerste {n} van {total}.", "Place an indicatie": "Indicatie plaatsen",
    "Place": "Plaatsen", "Organisatie": "Organisatie",
    "Not a burgerservicenummer (9 digits passing the 11-proof).":
        "Geen burgerservicenummer (9 cijfers die de elfproef doorstaan).",
    "Name the application.": "Noem de applicatie.",
    "Nothing changed: {afnemer} already followed that person.": "Niets gewijzigd: {afnemer} volgde die persoon al.",
    "Nothing changed: {afnemer} did not follow that person.": "Niets gewijzigd: {afnemer} volgde die persoon niet.",
    "Indicatie placed for {afnemer}.": "Indicatie geplaatst voor {afnemer}.",
    "Indicatie removed for {afnemer}.": "Indicatie verwijderd voor {afnemer}.",
    # mappings
    "Mappings and zaaktypecatalogus": "Mappings en zaaktypecatalogus", "Changes refused": "Wijzigingen geweigerd",
    "These files were changed but do not validate; the broker goes on with the previous version of each.":
        "Deze bestanden zijn gewijzigd maar niet geldig; de broker werkt door met de vorige versie van elk.",
    "configuration": "configuratie", "active version": "actieve versie", "comment": "toelichting",
    "no configurations": "geen configuraties", "Routes in use (routes.yaml)": "Routes in gebruik (routes.yaml)",
    "The first route that matches a message decides. A changed routes.yaml is taken into use without a restart when it is valid; check a change first with":
        "De eerste route die bij een bericht past, beslist. Een gewijzigde routes.yaml wordt zonder herstart in "
        "gebruik genomen als die geldig is; controleer een wijziging eerst met",
    "operations": "operaties", "zenders": "zenders", "zaaktypen": "zaaktypen", "deliver to": "afleveren aan",
    "version": "versie", "active": "actief", "back to the editor": "terug naar de editor",
    "Changes since version {n}": "Wijzigingen sinds versie {n}", "no changes": "geen wijzigingen", "Text": "Tekst",
    "active: version {n} by {who}": "actief: versie {n} door {who}", "{n} problem": "{n} probleem",
    "{n} problems": "{n} problemen", "not saved.": "niet opgeslagen.", "did you mean": "bedoelt u",
    "Valid.": "Geldig.", "Text of {name}": "Tekst van {name}", "Comment for this version": "Toelichting bij deze versie",
    "Preview on": "Voorbeeld met", "stored message #": "opgeslagen bericht nr.", "or a file": "of een bestand",
    "Validate": "Controleren", "Preview": "Voorbeeld", "Save as new version": "Opslaan als nieuwe versie",
    "Preview: the case model and the requests that would be sent":
        "Voorbeeld: het zaakmodel en de verzoeken die verstuurd zouden worden",
    "Versions": "Versies", "text and diff": "tekst en verschillen", "Make version {n} active again?":
        "Versie {n} weer actief maken?", "Roll back to this": "Hierheen terugzetten",
    "{name}: version {n} saved and active.": "{name}: versie {n} opgeslagen en actief.",
    "Choose a version to roll back to.": "Kies een versie om naar terug te zetten.",
    "Rollback refused: {why}": "Terugzetten geweigerd: {why}",
    "{name}: version {n} restored as version {m}.": "{name}: versie {n} teruggezet als versie {m}.",
    "Mappings unavailable": "Mappings niet beschikbaar",
    "This broker has no configuration store.": "Deze broker heeft geen configuratie-opslag.",
}
