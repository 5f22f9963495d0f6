"""Entries on behalf of residents without a smartphone: a paper questionnaire, or a
proposal taken over the phone or in person, entered by a coordinator."""
