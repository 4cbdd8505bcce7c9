"""The ZGW adapter: a zaaksysteem behind the ZGW APIs (Zaken 1.5.1, Catalogi 1.3.1, Documenten 1.4.2,
Besluiten 1.0.2), as Open Zaak implements them.

Every ZDS 1.2 operation is translated into API calls (zaken.py, documenten.py, besluiten.py) and
back (zaken_lezen.py); the mapping files say which Catalogi types the ZDS codes mean
(broker.mappings). The target does not share the broker's transaction: each completed API call is a
recorded step (steps.py), so a retry never creates a second zaak, status or document.

routes.yaml::

    targets:
      openzaak:
        adapter: zgw
        zaken_url: https://openzaak.example.nl/zaken/api/v1
        catalogi_url: https://openzaak.example.nl/catalogi/api/v1
        documenten_url: https://openzaak.example.nl/documenten/api/v1
        besluiten_url: https://openzaak.example.nl/besluiten/api/v1
        client_id: stuf-broker
        secret_env: OPENZAAK_SECRET          # or: secret: "..."
        timeout: 10                          # seconds per request
        large_document_bytes: 4194304        # larger documents go up in bestandsdelen
        catalogi_cache_seconds: 300          # how long Catalogi answers are reused
        mappings: [shv.yaml, omv.yaml]       # optional: only these files of config/mappings/
        identificaties: {zaak: "{gemeentecode}Z{jaar}{volgnummer:06d}", document: reserve}
                                             # a template, or reserve: Open Zaak hands it out
        notificaties:                        # optional: changes made in the APIs by others are told
          url: https://opennotificaties.example.nl/api/v1     # to the subscribers (notificaties.py)
          callback_url: https://broker.example.nl/zgw/notificaties
          auth_env: ZGW_NOTIFICATIES_AUTH

The package's modules are imported only by a broker with a ``zgw`` target (broker.adapters.registry)
or a mapping preview: the adapter (adapter.py) brings the JWT and HTTP clients with it, and a process
that only migrates its tables (tables.py) or keys a notification (broker.adapters.zgw_notificatie)
does not need them.
"""
