"""The diary's domain: questionnaire, check-ins, enrolment, history. No Telegram imports here."""
