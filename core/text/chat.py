"""Chat prompts: checking messages and rendering them with the tokenizer's chat template."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transformers import PreTrainedTokenizerBase

from attrix.errors import InputError, InputTypeError
from attrix.text.encoding import check_unicode

Messages = list[dict[str, str]]


def check_messages(value: Any) -> Messages:
    """``value`` as chat messages (a non-empty list of ``{"role": str, "content": str}``); else an error saying what is wrong."""
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)) or not value:
        raise InputTypeError(
            f"chat messages must be a non-empty list of {{'role': ..., 'content': ...}} objects, got {value!r:.80}"
        )
    messages = []
    for number, message in enumerate(value):
        if not isinstance(message, dict) or set(message) != {"role", "content"}:
            raise InputError(
                f"chat message {number} must be an object with exactly the keys 'role' and 'content', got {message!r:.80}"
            )
        role, content = message["role"], message["content"]
        if not isinstance(role, str) or not role.strip() or not isinstance(content, str):
            raise InputError(f"chat message {number} needs a non-empty string 'role' and a string 'content', got {message!r:.80}")
        check_unicode(role, f"chat message {number}'s role")
        messages.append({"role": role, "content": check_unicode(content, f"chat message {number}'s content")})
    if not any(message["content"].strip() for message in messages):
        raise InputError("the chat messages are all empty; give at least one message with some text")
    return messages


def render_chat(tokenizer: PreTrainedTokenizerBase, messages: Messages) -> tuple[str, list[tuple[int, int]]]:
    """The prompt text the chat template makes of ``messages`` (ready for the assistant's answer), and where each
    message's content lies in it; everything else is the template's."""
    if not getattr(tokenizer, "chat_template", None):
        raise InputError(
            f"{type(tokenizer).__name__} has no chat template, so chat messages cannot be rendered: give the prompt "
            f"as a plain string, or set tokenizer.chat_template"
        )
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    spans, start = [], 0
    for message in messages:
        found = text.find(message["content"], start)
        if found < 0:
            raise InputError(f"the chat template changed the content of the {message['role']!r} message; attrix cannot place it")
        spans.append((found, found + len(message["content"])))
        start = found + len(message["content"])
    return text, spans
