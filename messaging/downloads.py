"""Who may download a message's attachments: the conversation's members."""

from files import access as file_access
from messaging import access

file_access.register_download_rule(
    access.may_download_attachment, related=("message_attachment__message",)
)
