"""Identity and access: customer, staff and partner credentials, OTP step-up, sessions, devices,
tokens, roles and permissions, four-eyes approvals and PIPL consents.

Other domains use only :mod:`rongshu.identity.services`, :mod:`~rongshu.identity.types`,
:mod:`~rongshu.identity.errors` and :mod:`~rongshu.identity.events`.
"""
