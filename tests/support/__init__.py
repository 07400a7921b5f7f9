"""What the tests share: the contract's case table, registries, servers' helpers.

- :mod:`tests.support.cases`: the case table and the helpers the adapter suites use.
- :mod:`tests.support.consentlog`: the consent-log suites' apps, databases and fixtures.
- :mod:`tests.support.seed_registries`: registries of real sites, for the policy and CLI.
- :mod:`tests.support.hardening`: the hardening suite's recorders, figures and oracle.
"""
