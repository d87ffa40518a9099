"""The campaign's vocabulary: how its texts name an institution (ДОУ, ДОО, детский сад), in the
grammatical forms the emails, status lines and reports use.

An abbreviation does not decline: `terms: {institution: ДОО}` serves every form. A word does:
`terms: {institution: {nom: детский сад, gen: детского сада, dat: детскому саду, nom_pl: детские
сады, gen_pl: детских садов}}`. The gender (for «которого»/«которой») is guessed from the word
(an abbreviation from its last letter: ДОО is an организация, ДОУ an учреждение) unless given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

CASES = ("nom", "gen", "dat", "nom_pl", "gen_pl")  # the forms dqflow's texts use
AGREEING = ("which", "past", "this_gen", "your_gen", "other_gen", "it_acc")  # the words that agree with the name's gender
GENDERS = ("m", "f", "n")


@dataclass(frozen=True)
class Terms:
    """An institution's name in each form; the defaults are ДОУ, which does not decline."""

    nom: str = "ДОУ"
    gen: str = "ДОУ"
    dat: str = "ДОУ"
    nom_pl: str = "ДОУ"
    gen_pl: str = "ДОУ"
    gender: str = "n"

    @property
    def which(self) -> str:
        """«ДОУ, материалы которого…», «ДОО, материалы которой…»."""
        return "которой" if self.gender == "f" else "которого"

    @property
    def past(self) -> str:
        """The past-tense ending that agrees with the word: сдал / сдала / сдало, выбыл / выбыла / выбыло."""
        return {"m": "", "f": "а", "n": "о"}[self.gender]

    @property
    def this_gen(self) -> str:
        """«этого ДОУ», «этой ДОО», «этого детского сада»."""
        return "этой" if self.gender == "f" else "этого"

    @property
    def your_gen(self) -> str:
        """«вашего ДОУ», «вашей ДОО»."""
        return "вашей" if self.gender == "f" else "вашего"

    @property
    def other_gen(self) -> str:
        """«другого ДОУ», «другой ДОО»."""
        return "другой" if self.gender == "f" else "другого"

    @property
    def it_acc(self) -> str:
        """«проверять его» (ДОУ, детский сад), «проверять её» (ДОО)."""
        return "её" if self.gender == "f" else "его"

    def forms(self) -> dict[str, str]:
        """What the letters' templates see as `item.terms`: every form and every word that agrees with it (`AGREEING`),
        as the portal's pages see them on `Terms` itself."""
        return {name: getattr(self, name) for name in (*CASES, *AGREEING)}

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "Terms":
        return cls(**data) if data else cls()


DEFAULT = Terms()


def guess_gender(word: str) -> str:
    """The grammatical gender of a name's head word, as a Russian reader would take it."""
    head = word.split()[-1] if word.split() else word
    if head.isupper():  # an abbreviation: its last letter is the head noun
        return "f" if head.endswith("О") else "n"  # …организация; …учреждение
    if head.endswith(("а", "я")):
        return "f"
    if head.endswith(("о", "е")):
        return "n"
    return "m"
