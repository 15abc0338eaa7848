"""谁主管谁负责: which section owns each topic (国办发〔2016〕61号: the department in charge
is the first responsible party). It drafts the answer and its head is the escalation's
section rung.

The bureau edits the ``ownership:`` section of the config; a topic left out keeps its default,
and ``other`` catches every topic without an owner::

    ownership:
      exam: 法律职业资格管理处
      notary: 律师公证工作管理科
      lawyer: 律师公证工作管理科
      other: 办公室

Keys are the classifier's topic codes (``analysis.classify.TOPICS``); an unknown key is refused
naming it, so a typo never silently sends a 公证 incident to the wrong section.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, RootModel, model_validator

# The classifier's topics (kept equal to ``analysis.classify.TOPICS``; a test checks it) without
# importing the classifier and its scikit-learn stack into config checks.
TOPICS = ("legal_aid", "exam", "notary", "lawyer", "appraisal", "mediation", "corrections",
          "prison", "justice_admin", "other")

DEFAULT_OWNERS: dict[str, str] = {
    "exam": "法律职业资格管理处",
    "lawyer": "律师公证工作管理科",
    "notary": "律师公证工作管理科",
    "legal_aid": "法律援助处(中心)",
    "appraisal": "司法鉴定管理处",
    "mediation": "人民参与和促进法治处",
    "corrections": "社区矫正管理局",
    "prison": "监狱管理局",
    "justice_admin": "基层工作处",
    "other": "办公室",
}


class Ownership(RootModel[dict[str, str]]):
    """Topic code → owning section; topics not written keep :data:`DEFAULT_OWNERS`."""

    model_config = ConfigDict(frozen=True)

    root: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_OWNERS))

    @model_validator(mode="before")
    @classmethod
    def _known_topics(cls, value: Any) -> Any:
        if value is None:
            return dict(DEFAULT_OWNERS)
        if not isinstance(value, dict):
            return value
        unknown = sorted(str(k) for k in value if k not in TOPICS)
        if unknown:
            raise ValueError(f"unknown topic {', '.join(unknown)}: expected one of "
                             f"{', '.join(TOPICS)}")
        empty = sorted(str(k) for k, v in value.items() if not isinstance(v, str) or not v.strip())
        if empty:
            raise ValueError(f"topic {', '.join(empty)} needs a section name (e.g. 办公室)")
        return {**DEFAULT_OWNERS, **{k: v.strip() for k, v in value.items()}}

    def section_for(self, topic: str | None) -> str | None:
        """The section that owns ``topic``; an unmapped topic goes to ``other``'s owner.
        None: no topic (an incident reported by hand without one)."""
        if topic is None:
            return None
        return self.root.get(topic) or self.root.get("other")


DEFAULT_OWNERSHIP = Ownership()


def load_ownership(data: dict[str, Any] | None) -> Ownership:
    """Validate the ``ownership:`` config section (topic → section); raises
    ``pydantic.ValidationError`` naming the unknown topic."""
    return Ownership.model_validate(data or {})
