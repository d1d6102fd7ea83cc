"""``RequestLookup`` (foibot.domain.matching) over the database.

Each method answers a whole batch in one indexed query (``IN (...)``), so matching a
message costs a handful of queries whatever the number of requests. The statements are
built once, with expanding bound parameters, and run on the session's connection:
building SQLAlchemy expressions per message cost more than running them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, exists, select
from sqlalchemy.orm import Session

from foibot.domain.matching import AuthorityRef, LookupKeys, RequestRef
from foibot.store.models import Authority, AuthorityDomain, Event, Message, Request, TheirReference

# A request is open once it may have reached the authority, until it is closed.
SENT_STATES = ("sent", "final", "uncertain")
CLOSING_EVENTS = ("closed", "withdrawn")


def _expanding(name: str) -> Any:
    return bindparam(name, expanding=True)


_REFS = select(Request.id, Request.reference, Request.authority_id, Authority.name).join(
    Authority, Authority.id == Request.authority_id
)
_BY_MESSAGE_IDS = (
    _REFS.add_columns(Message.message_id)
    .join(Message, Message.request_id == Request.id)
    .where(Message.direction == "out", Message.message_id.in_(_expanding("ids")))
)
_BY_REFERENCES = _REFS.add_columns(Request.reference).where(
    Request.reference.in_(_expanding("refs"))
)
_BY_THEIR_REFERENCES = (
    _REFS.add_columns(TheirReference.value)
    .join(TheirReference, TheirReference.request_id == Request.id)
    .where(TheirReference.value.in_(_expanding("values")))
    .order_by(Request.id)
)
_BY_THEIR_REFERENCES_IN = _BY_THEIR_REFERENCES.where(
    Request.authority_id.in_(_expanding("authorities"))
)
_BY_RECIPIENTS = (
    _REFS.add_columns(Authority.email)
    .where(Authority.email.in_(_expanding("addresses")))
    .order_by(Request.id)
)
_BY_DOMAINS = (
    select(Authority.id, Authority.name, AuthorityDomain.domain)
    .join(Authority, Authority.id == AuthorityDomain.authority_id)
    .where(AuthorityDomain.domain.in_(_expanding("domains")))
    .order_by(Authority.id)
)
_WAS_SENT = exists().where(
    and_(
        Message.request_id == Request.id,
        Message.direction == "out",
        Message.send_state.in_(SENT_STATES),
    )
)
_CLOSED = exists().where(and_(Event.request_id == Request.id, Event.kind.in_(CLOSING_EVENTS)))
_OPEN = (
    _REFS.add_columns(Request.authority_id)
    .where(Request.authority_id.in_(_expanding("authorities")), _WAS_SENT, ~_CLOSED)
    .order_by(Request.id)
)


def _ref(row: Sequence[Any]) -> RequestRef:
    return RequestRef(id=row[0], reference=row[1], authority_id=row[2], authority_name=row[3])


class SqlRequestLookup:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _rows(self, statement: Any, **params: Any) -> list[Any]:
        # Core execution on the session's connection: the same transaction, without
        # the ORM's per-statement overhead (these select columns, never entities);
        # ``all()`` fetches the rows in one call rather than one call per row.
        return list(self.session.connection().execute(statement, params).all())

    def requests_by_message_ids(self, message_ids: Sequence[str]) -> Mapping[str, RequestRef]:
        if not message_ids:
            return {}
        rows = self._rows(_BY_MESSAGE_IDS, ids=sorted(set(message_ids)))
        return {row[4]: _ref(row) for row in rows}

    def requests_by_references(self, references: Sequence[str]) -> Mapping[str, RequestRef]:
        if not references:
            return {}
        return {
            row[4]: _ref(row) for row in self._rows(_BY_REFERENCES, refs=sorted(set(references)))
        }

    def requests_by_their_references(
        self, values: Sequence[str], authority_ids: Collection[int] | None
    ) -> Sequence[tuple[str, RequestRef]]:
        if not values or (authority_ids is not None and not authority_ids):
            return []
        if authority_ids is None:
            rows = self._rows(_BY_THEIR_REFERENCES, values=sorted(set(values)))
        else:
            rows = self._rows(
                _BY_THEIR_REFERENCES_IN,
                values=sorted(set(values)),
                authorities=sorted(set(authority_ids)),
            )
        found: dict[tuple[str, int], RequestRef] = {}
        for row in rows:
            found.setdefault((row[4], row[0]), _ref(row))
        return [(value, ref) for (value, _), ref in found.items()]

    def requests_by_recipients(
        self, addresses: Sequence[str]
    ) -> Mapping[str, Sequence[RequestRef]]:
        if not addresses:
            return {}
        out: dict[str, list[RequestRef]] = {}
        for row in self._rows(_BY_RECIPIENTS, addresses=sorted({a.lower() for a in addresses})):
            out.setdefault(row[4], []).append(_ref(row))
        return out

    def authorities_by_domains(
        self, domains: Sequence[str]
    ) -> Mapping[str, Sequence[AuthorityRef]]:
        if not domains:
            return {}
        out: dict[str, list[AuthorityRef]] = {}
        for authority_id, name, domain in self._rows(
            _BY_DOMAINS, domains=sorted({d.lower() for d in domains})
        ):
            known = out.setdefault(domain, [])
            if all(a.id != authority_id for a in known):
                known.append(AuthorityRef(authority_id, name))
        return out

    def open_requests(self, authority_ids: Sequence[int]) -> Mapping[int, Sequence[RequestRef]]:
        return {a: [_ref(row) for row in rows] for a, rows in self.open_rows(authority_ids).items()}

    def open_rows(self, authority_ids: Sequence[int]) -> dict[int, list[Any]]:
        """``open_requests`` as the rows each ``RequestRef`` is made from."""
        if not authority_ids:
            return {}
        out: dict[int, list[Any]] = {}
        for row in self._rows(_OPEN, authorities=sorted(set(authority_ids))):
            out.setdefault(row[2], []).append(row)
        return out


class PrefetchedLookup:
    """``RequestLookup`` for a batch of messages filed in one transaction: the keys of
    every message in the batch (``foibot.domain.matching.lookup_keys``) are fetched
    together, a handful of queries for the whole batch instead of a handful per message;
    each message is then answered from memory. A key that was not fetched goes to the
    database, so the answers are always those ``SqlRequestLookup`` would give.

    What the batch itself writes (at its end) and later messages in it must see is told
    with ``learned``: a reference learned from one message files the next one that
    quotes it. The authority references are therefore always answered from memory
    (values not fetched yet are fetched first), where what was learned is.
    (Nothing else a batch writes changes these answers: filing never adds requests,
    outgoing messages, domains, or closes a request.)

    Open requests are asked for only by a message no stronger method filed
    (``match_message``'s step 6). They are fetched when matching first asks, in one
    query, for the authorities of every message in the batch that may get that far
    (``_may_ask_open``): a batch of replies in their threads fetches none. Their
    ``RequestRef``s are made as they are asked for.
    """

    def __init__(self, session: Session, keys: Sequence[LookupKeys]) -> None:
        self.sql = SqlRequestLookup(session)
        self.by_message_id = dict(
            self.sql.requests_by_message_ids([i for k in keys for i in k.message_ids])
        )
        self.message_ids_known = {i for k in keys for i in k.message_ids}
        self.by_reference = dict(
            self.sql.requests_by_references([r for k in keys for r in k.references])
        )
        self.references_known = {r for k in keys for r in k.references}
        self.by_domain = {
            domain: list(found)
            for domain, found in self.sql.authorities_by_domains(
                [d for k in keys for d in k.domains]
            ).items()
        }
        self.domains_known = {d for k in keys for d in k.domains}
        self.their: dict[str, list[RequestRef]] = {}
        self.their_known: set[str] = set()
        self._fetch_their([v for k in keys for v in k.their_values])
        self.keys = keys
        self.open_known: set[int] = set()
        self._open_rows: dict[int, list[Any]] | None = None  # fetched on the first ask

    def requests_by_message_ids(self, message_ids: Sequence[str]) -> Mapping[str, RequestRef]:
        if not self.message_ids_known.issuperset(message_ids):
            return self.sql.requests_by_message_ids(message_ids)
        return {i: self.by_message_id[i] for i in message_ids if i in self.by_message_id}

    def requests_by_references(self, references: Sequence[str]) -> Mapping[str, RequestRef]:
        if not self.references_known.issuperset(references):
            return self.sql.requests_by_references(references)
        return {r: self.by_reference[r] for r in references if r in self.by_reference}

    def requests_by_their_references(
        self, values: Sequence[str], authority_ids: Collection[int] | None
    ) -> Sequence[tuple[str, RequestRef]]:
        self._fetch_their(values)
        if not values or (authority_ids is not None and not authority_ids):
            return []
        found: dict[tuple[str, int], RequestRef] = {}
        for value in sorted(set(values)):
            for ref in self.their.get(value, ()):
                if authority_ids is None or ref.authority_id in authority_ids:
                    found.setdefault((value, ref.id), ref)
        # in request order, as the query gives them
        ordered = sorted(found.items(), key=lambda item: item[0][1])
        return [(value, ref) for (value, _), ref in ordered]

    def requests_by_recipients(
        self, addresses: Sequence[str]
    ) -> Mapping[str, Sequence[RequestRef]]:
        return self.sql.requests_by_recipients(addresses)  # bounces only: rare

    def authorities_by_domains(
        self, domains: Sequence[str]
    ) -> Mapping[str, Sequence[AuthorityRef]]:
        if not self.domains_known.issuperset(domains):
            return self.sql.authorities_by_domains(domains)
        return {d: self.by_domain[d] for d in domains if d in self.by_domain}

    def open_requests(self, authority_ids: Sequence[int]) -> Mapping[int, Sequence[RequestRef]]:
        if self._open_rows is None:
            self.open_known = {a.id for k in self.keys if self._may_ask_open(k) for a in
                               self._sender_authorities(k)}  # fmt: skip
            self._open_rows = self.sql.open_rows(sorted(self.open_known))
        if not self.open_known.issuperset(authority_ids):
            return self.sql.open_requests(authority_ids)
        rows = self._open_rows
        return {a: [_ref(row) for row in rows[a]] for a in authority_ids if a in rows}

    def _sender_authorities(self, keys: LookupKeys) -> Sequence[AuthorityRef]:
        """The authorities ``match_message`` takes the sender's to be."""
        return next((self.by_domain[d] for d in keys.domains if self.by_domain.get(d)), ())

    def _may_ask_open(self, keys: LookupKeys) -> bool:
        """Whether matching the message may ask for open requests: not if it names one
        of our requests (by a reference, one of our Message-IDs, or an authority's
        reference known on a request to the sender's authority). Each of those gives a
        strong signal, and a strong signal ends matching before step 6, except for mail
        from a case-management system's domain. A message that asks all the same (that
        one) is answered by a query of its own: a wrong guess costs time, never a
        different answer."""
        if any(r in self.by_reference for r in keys.references):
            return False
        if any(i in self.by_message_id for i in keys.message_ids):
            return False
        authorities = {a.id for a in self._sender_authorities(keys)}
        return not any(
            r.authority_id in authorities for v in keys.their_values for r in self.their.get(v, ())
        )

    def _fetch_their(self, values: Sequence[str]) -> None:
        missing = [v for v in dict.fromkeys(values) if v not in self.their_known]
        if not missing:
            return
        for value, ref in self.sql.requests_by_their_references(missing, None):
            self.their.setdefault(value, []).append(ref)
        self.their_known.update(missing)

    def known_references(self, request_id: int, values: Sequence[str]) -> set[str]:
        """Which of ``values`` are already learned on the request."""
        self._fetch_their(values)
        return {v for v in values if any(r.id == request_id for r in self.their.get(v, ()))}

    def learned(self, value: str, request: RequestRef) -> None:
        """A reference this batch learned on ``request`` (written at the batch's end)."""
        known = self.their.setdefault(value, [])
        if all(r.id != request.id for r in known):
            known.append(request)
