"""Who takes part in a session's conversation: its student and its tutor's account, as the session is now.

A session moved to another tutor is discussed with the new one. Kept apart from messaging.py so that
attachments.py (which messaging.py uses to store files) can check downloads with the same rule.
"""


def is_participant(user, appointment):
    """`user` is the session's student or its tutor's account."""
    return user.id in (appointment.student_id, appointment.tutor.user_id)
