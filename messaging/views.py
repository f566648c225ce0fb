"""Messaging pages: the conversation list, a conversation, posting and the live poll.

Live updates poll rather than stream. Every few seconds the page asks
"anything after version v?" with the ETag it was given; an idle poll is one
indexed query (membership and version together) answered 304 with an empty
body. Server-sent events would hold a worker (or a greenlet, or an async
process next to the WSGI ones) per open tab and need the proxy to pass
long-lived responses; polling works with the same gunicorn workers, load
balancer and caches as every other page, scales by adding web processes, and
degrades to "post and reload" with JavaScript off. A three-second delay is
fine for course chat.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.models import User
from core import parsing, ratelimit
from core.http import AuthedRequest
from courses import access as course_access
from courses.models import Enrollment
from messaging import access, badge, conditional, fragments, live, selectors, services
from messaging.forms import EditMessageForm, GroupForm, MessageForm
from messaging.models import EMOJI_CHOICES, Conversation, Message
from messaging.templatetags import messaging_tags

Kind = Conversation.Kind
INBOX_PAGE = 50
PEOPLE_PAGE = 50


# --- Small helpers ---------------------------------------------------------------------------


def _refused(request: AuthedRequest, message: str, status: int = 403) -> HttpResponse:
    return render(request, "messaging/refused.html", {"reason": message}, status=status)


def _refresh(response: HttpResponse) -> HttpResponse:
    """Ask the page's poller to fetch the change at once."""
    response["HX-Trigger"] = "messaging:refresh"
    return response


def _back_to(message: Message) -> str:
    return (
        reverse("messaging:conversation", args=[message.conversation_id]) + f"#message-{message.pk}"
    )


# --- The list and the badge ------------------------------------------------------------------


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    title: str
    initials: str


def _initials(name: str) -> str:
    parts = [p for p in name.replace(",", " ").split() if p[:1].isalnum()]
    return "".join(p[0] for p in parts[:2]).upper() or "#"


@login_required
@require_safe
def inbox(request: AuthedRequest) -> HttpResponse:
    """List the viewer's conversations, latest activity first, with unread counts.

    The list refreshes itself by polling with an ETag built from one cheap query.
    """
    user = request.user
    page_number = parsing.query_int(request, "page") or 1
    stamp = selectors.inbox_stamp(user)
    etag = f'W/"i{stamp}.p{page_number}"'
    polling = bool(request.htmx) and "poll" in request.GET
    if polling and conditional.etag_matches(request, etag):
        return conditional.not_modified(etag)
    if not polling and services.ensure_channels(user=user):
        stamp = selectors.inbox_stamp(user)
        etag = f'W/"i{stamp}.p{page_number}"'
    page = Paginator(selectors.inbox(user), INBOX_PAGE).get_page(page_number)
    rows = []
    for conversation in page.object_list:
        title = selectors.title_for(conversation, user)
        others = selectors.other_people(conversation, user)
        shown = messaging_tags.initials(others[0]) if len(others) == 1 else _initials(title)
        rows.append(InboxRow(conversation=conversation, title=title, initials=shown))
    context = {"page": page, "rows": rows, "etag": etag, "page_number": page_number}
    template = "messaging/_inbox_list.html" if polling else "messaging/inbox.html"
    return conditional.with_etag(render(request, template, context), etag)


@login_required
@require_safe
def unread_badge(request: AuthedRequest) -> HttpResponse:
    """Answer the header's unread badge; 304 while the count is the same (one query)."""
    count = badge.unread_total(request.user)
    etag = conditional.unread_etag(count)
    if conditional.etag_matches(request, etag):
        return conditional.not_modified(etag)
    response = render(request, "messaging/_unread_badge.html", {"unread_count": count})
    return conditional.with_etag(response, etag)


# --- Starting conversations ----------------------------------------------------------------


@login_required
@require_safe
def new(request: AuthedRequest) -> HttpResponse:
    """List the people the viewer may message, and the courses they can start a group in."""
    query = request.GET.get("q", "").strip()[:100]
    people = Paginator(selectors.people_to_message(request.user, query), PEOPLE_PAGE).get_page(
        request.GET.get("page")
    )
    teaching = (
        list(request.user.courses_taught.order_by("title")) if request.user.is_teacher else []
    )
    return render(
        request, "messaging/new.html", {"people": people, "q": query, "teaching": teaching}
    )


@login_required
@require_safe
def channel(request: AuthedRequest, slug: str) -> HttpResponse:
    """Open a course's channel, creating it on first use."""
    course, _ = course_access.get_course_for_member(request.user, slug)
    conversation = services.get_or_create_channel(course=course)
    return redirect("messaging:conversation", conversation.pk)


@login_required
@require_safe
def direct(request: AuthedRequest, user_id: int) -> HttpResponse:
    """Open the direct conversation with someone the viewer shares a course with."""
    other = User.objects.filter(pk=user_id, is_active=True).first()
    try:
        if other is None:
            raise PermissionDenied(services.NO_SHARED_COURSE)
        conversation = services.get_or_create_direct(user=request.user, other=other)
    except PermissionDenied as refusal:
        # 404 whether the account exists or not: ids can't be probed for people.
        return _refused(request, str(refusal), status=404)
    return redirect("messaging:conversation", conversation.pk)


@login_required
@require_http_methods(["GET", "POST"])
def new_group(request: AuthedRequest, slug: str) -> HttpResponse:
    """Let a teacher start a group conversation with some of a course's students."""
    course = course_access.get_course_for_teacher(request.user, slug)
    students = User.objects.filter(
        enrollments__course=course, enrollments__status=Enrollment.Status.ACTIVE
    ).order_by("first_name", "last_name", "pk")
    form = GroupForm(request.POST or None, students=students)
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.create_group(
                teacher=request.user,
                course=course,
                students=form.cleaned_data["students"],
                title=form.cleaned_data["title"],
            )
        except ValidationError as error:
            form.add_error("students", error)
        else:
            return redirect("messaging:conversation", conversation.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "messaging/group_form.html", {"course": course, "form": form}, status=status
    )


# --- One conversation ------------------------------------------------------------------------


def _headline(conversation: Conversation, user: User, people: list) -> tuple[str, str]:
    """Return the eyebrow and the title of a conversation page."""
    if conversation.kind == Kind.CHANNEL:
        return "Course channel", conversation.course.title if conversation.course else ""
    others = [p.user for p in people if p.user_id != user.pk]
    if conversation.kind == Kind.DIRECT:
        name = others[0].get_full_name() if others else "Deleted account"
        return "Direct message", name or "Someone"
    course_title = conversation.course.title if conversation.course else ""
    names = [p.get_full_name() or "Someone" for p in others]
    title = conversation.title or ", ".join(names[:3]) + (
        f" and {len(names) - 3} others" if len(names) > 3 else ""
    )
    return f"Group · {course_title}", title


def _poll_context(conversation: Conversation, user: User, after: int) -> dict:
    return {
        "after": after,
        "version": conversation.version,
        "etag": conditional.conversation_etag(conversation.pk, conversation.version, user),
        "seconds": selectors.poll_seconds(),
    }


def _render_conversation(
    request: AuthedRequest,
    conversation: Conversation,
    *,
    form: MessageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    query = request.GET.get("q", "").strip()[:200]
    before = parsing.query_int(request, "before")
    people = selectors.participants(conversation)
    # A direct or group conversation lists the viewer already; a channel makes their row now.
    state = next((p for p in people if p.user_id == user.pk), None) or services.state_for(
        conversation=conversation, user=user
    )
    read_before = state.last_read_message_id
    member_since = getattr(conversation, "member_since", None)
    latest_view = not query and before is None
    shared_list = ""
    if query:
        page = selectors.search(conversation, user, query, before=before)
    elif latest_view and conversation.kind == Kind.CHANNEL:
        # Every student of the course opens this page: it is rendered once per version.
        latest = fragments.latest_page(
            conversation, moderator=access.is_channel_teacher(user, conversation)
        )
        shared_list = fragments.personalise(
            latest,
            viewer=user,
            csrf_token=get_token(request),
            read_up_to=read_before,
            member_since=member_since,
        ).strip()
        page = selectors.HistoryPage(rows=[], has_older=False, newest=latest.newest_id)
    else:
        page = selectors.history(
            conversation,
            user,
            before=before,
            read_up_to=read_before,
            member_since=member_since,
        )
    if latest_view and page.newest_id > read_before:
        services.mark_read(conversation=conversation, user=user, up_to=page.newest_id)
    if request.htmx and before is not None:
        return render(
            request, "messaging/_older.html", _message_context(request, conversation, page, query)
        )
    eyebrow, title = _headline(conversation, user, people)
    refusal = access.posting_refusal(user, conversation, state=state)
    newest = page.rows[0].message if latest_view and page.rows else None
    context = {
        **_message_context(request, conversation, page, query),
        "eyebrow": eyebrow,
        "title": title,
        "people": people,
        "member_count": (
            selectors.member_count(conversation) if conversation.kind == Kind.CHANNEL else None
        ),
        "seen": selectors.seen_by(conversation, user, people, newest) if newest else [],
        "refusal": refusal,
        "form": form or MessageForm(),
        "max_chars": services.max_chars(),
        "is_latest": latest_view,
        "shared_list": mark_safe(shared_list),  # noqa: S308 - rendered by our own templates  # nosec B308, B703
        "poll": _poll_context(conversation, user, after=page.newest_id) if latest_view else None,
    }
    return render(request, "messaging/conversation.html", context, status=status)


def _message_context(
    request: AuthedRequest, conversation: Conversation, page: selectors.HistoryPage, query: str
) -> dict:
    user = request.user
    return {
        "conversation": conversation,
        "page": page,
        "q": query,
        "teacher_id": conversation.course.teacher_id if conversation.course else None,
        "is_moderator": access.is_channel_teacher(user, conversation),
        "emoji": EMOJI_CHOICES,
    }


@login_required
@require_safe
def conversation(request: AuthedRequest, pk: int) -> HttpResponse:
    """Show the newest messages (older pages load on scroll), or search results for `q`."""
    found = access.get_conversation_for_member(request.user, pk)
    return _render_conversation(request, found)


@login_required
@require_safe
def poll(request: AuthedRequest, pk: int) -> HttpResponse:
    """Answer a page's poll: 304 when nothing changed, else the new and changed messages.

    With Redis, an unchanged poll is answered from the cache with no SQL
    (`messaging.live`). Otherwise one query reads membership and the version at
    once; if the version moved, the conversation is loaded by its id and the
    news, rendered once for everyone at this version (`messaging.fragments`),
    is handed out with the viewer's own touches put in.
    """
    user = request.user
    cached = live.cached(pk, user.pk)
    if cached.vouched_version is not None:
        etag = conditional.conversation_etag(pk, cached.vouched_version, user)
        if conditional.etag_matches(request, etag):
            return conditional.not_modified(etag)
    state = selectors.poll_state(user, pk)
    if state is None:
        raise Http404
    live.remember(pk, user.pk, state.version, cached)
    etag = conditional.conversation_etag(pk, state.version, user)
    if conditional.etag_matches(request, etag):
        return conditional.not_modified(etag)
    found = selectors.conversation_for_poll(pk, state.version)
    after = parsing.query_int(request, "after") or 0
    news = fragments.news_since(
        found,
        since=parsing.query_int(request, "v") or 0,
        after=after,
        moderator=access.is_channel_teacher(user, found),
        receipts=user.send_read_receipts,
        poll_context=lambda next_after: _poll_context(found, user, after=next_after),
    )
    if news.too_many:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    if news.newest_new_id:
        services.mark_read(conversation=found, user=user, up_to=news.newest_new_id)
    html = fragments.personalise(news, viewer=user, csrf_token=get_token(request))
    if found.kind != Kind.CHANNEL:
        html += _receipts(request, found)
    response = HttpResponse(html)
    return conditional.with_etag(response, conditional.conversation_etag(pk, found.version, user))


def _receipts(request: AuthedRequest, conversation: Conversation) -> str:
    """Render who has seen the newest message, for a direct or group conversation's poll."""
    people = selectors.participants(conversation)
    newest = (
        Message.objects.filter(pk=conversation.last_message_id).first()
        if conversation.last_message_id
        else None
    )
    seen = selectors.seen_by(conversation, request.user, people, newest) if newest else []
    return render_to_string(
        "messaging/_receipts.html", {"seen": seen, "oob": True}, request=request
    )


@login_required
@require_POST
def post(request: AuthedRequest, pk: int) -> HttpResponse:
    """Post a message; with htmx, answer a fresh composer and let the poll show it."""
    user = request.user
    found = access.get_conversation_for_member(user, pk)
    form = MessageForm(request.POST, request.FILES)
    limit = ratelimit.Limit("message_post", int(settings.MESSAGE_RATE_PER_MINUTE), 60)
    verdict = ratelimit.hit(limit, f"user:{user.pk}")
    status = 200
    if not verdict.allowed:
        form.is_valid()
        form.add_error(
            None,
            f"You're sending messages quickly: at most {limit.count} a minute. "
            f"Wait {verdict.retry_after} seconds, then send this one again.",
        )
        status = 429
    elif form.is_valid():
        try:
            services.post_message(
                conversation=found,
                author=user,
                body=form.cleaned_data["body"],
                uploads=form.cleaned_data["attachments"],
            )
        except PermissionDenied as refusal:
            form.add_error(None, str(refusal))
            status = 403
        except ValidationError as error:
            form.add_error("attachments" if error.code != "empty" else "body", error)
            status = 400
        else:
            if request.htmx:
                return _refresh(render(request, "messaging/_composer.html", _composer(found)))
            return redirect(reverse("messaging:conversation", args=[found.pk]))
    else:
        status = 400
    if request.htmx:
        context = {**_composer(found), "form": form}
        response = render(request, "messaging/_composer.html", context, status=status)
    else:
        response = _render_conversation(request, found, form=form, status=status)
    if status == 429:
        response["Retry-After"] = str(verdict.retry_after)
    return response


def _composer(conversation: Conversation) -> dict:
    return {
        "conversation": conversation,
        "form": MessageForm(),
        "max_chars": services.max_chars(),
        "autofocus": True,
    }


# --- Changing messages -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: AuthedRequest, message_id: int) -> HttpResponse:
    """Edit one's own message's text."""
    message = access.get_message_for_member(request.user, message_id)
    if message.author_id != request.user.pk:
        return _refused(request, "Only the person who wrote a message can edit it.")
    if message.is_deleted:
        return _refused(request, "This message was deleted; it can't be edited.", status=400)
    has_files = message.attachments.exists()
    form = EditMessageForm(
        request.POST or None, initial={"body": message.body}, has_files=has_files
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.edit_message(
                    message=message, editor=request.user, body=form.cleaned_data["body"]
                )
            except PermissionDenied as refusal:
                return _refused(request, str(refusal))
            return redirect(_back_to(message))
        status = 400
    context = {"message": message, "conversation": message.conversation, "form": form}
    return render(request, "messaging/edit.html", context, status=status)


@login_required
@require_POST
def delete(request: AuthedRequest, message_id: int) -> HttpResponse:
    """Delete a message: one's own, or any in a channel one teaches."""
    message = access.get_message_for_member(request.user, message_id)
    try:
        services.delete_message(message=message, by=request.user)
    except PermissionDenied as refusal:
        return _refused(request, str(refusal))
    if request.htmx:
        return _refresh(HttpResponse(status=204))
    return redirect(_back_to(message))


@login_required
@require_POST
def react(request: AuthedRequest, message_id: int) -> HttpResponse:
    """Toggle one of the fixed reactions on a message."""
    message = access.get_message_for_member(request.user, message_id)
    try:
        services.toggle_reaction(
            message=message, user=request.user, emoji=request.POST.get("emoji", "")
        )
    except PermissionDenied as refusal:
        return _refused(request, str(refusal))
    except ValidationError as error:
        return _refused(request, " ".join(error.messages), status=400)
    if request.htmx:
        return _refresh(HttpResponse(status=204))
    return redirect(_back_to(message))


# --- People and moderation -----------------------------------------------------------------


@login_required
@require_safe
def people(request: AuthedRequest, pk: int) -> HttpResponse:
    """List a conversation's people; in a channel, its teacher can mute and unmute here."""
    found = access.get_conversation_for_member(request.user, pk)
    if found.kind == Kind.CHANNEL:
        members = Paginator(selectors.channel_members(found), PEOPLE_PAGE).get_page(
            request.GET.get("page")
        )
        listed = [
            (member, member.teaches_course, member.is_muted)  # type: ignore[attr-defined]
            for member in members.object_list
        ]
    else:
        members = None
        teacher_id = found.course.teacher_id if found.course else None
        listed = [(p.user, p.user_id == teacher_id, False) for p in selectors.participants(found)]
    eyebrow, title = _headline(found, request.user, selectors.participants(found))
    context = {
        "conversation": found,
        "eyebrow": eyebrow,
        "title": title,
        "members": members,
        "listed": listed,
        "is_moderator": access.is_channel_teacher(request.user, found),
    }
    return render(request, "messaging/people.html", context)


@login_required
@require_POST
def mute(request: AuthedRequest, pk: int, user_id: int) -> HttpResponse:
    """Mute (muted=1) or unmute a student in a course channel."""
    found = access.get_conversation_for_member(request.user, pk)
    if not access.is_channel_teacher(request.user, found):
        return _refused(request, "Only the course's teacher can mute people in its channel.")
    student = get_object_or_404(
        User,
        pk=user_id,
        enrollments__course_id=found.course_id,
        enrollments__status=Enrollment.Status.ACTIVE,
    )
    muted = request.POST.get("muted") == "1"
    services.set_muted(conversation=found, student=student, muted=muted, by=request.user)
    name = student.get_full_name() or student.email
    messages.success(
        request,
        f"{name} is muted: they can read the channel but not post."
        if muted
        else f"{name} can post in the channel again.",
    )
    next_url = request.POST.get("next", "")
    if next_url == "conversation":
        return redirect("messaging:conversation", found.pk)
    return redirect("messaging:people", found.pk)
