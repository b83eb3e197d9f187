"""The process table of the jet generator: name, label, Pythia settings and jet cuts.

Names and labels follow the JetClass one-hot column order (``QCD`` = 0 ... ``Tbl`` = 9);
``qg`` is the quark/gluon set of the EnergyFlow package (quark = 1, gluon = 0).

Examples:
    >>> from hep_jepa.data import PROCESSES
    >>> PROCESSES["Tbqq"].label, PROCESSES["Tbqq"].radius
    (8, 0.8)
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["COMMON_SETTINGS", "PROCESSES", "Process", "get_process"]

#: Settings shared by every process: 13 TeV pp, full event (hadronisation, MPI, ISR, FSR),
#: particles with c*tau > 10 mm stable (K0S, Lambda reach the detector), quiet output.
COMMON_SETTINGS: tuple[str, ...] = (
    "Beams:idA = 2212",
    "Beams:idB = 2212",
    "Beams:eCM = 13000.",
    "PartonLevel:MPI = on",
    "PartonLevel:ISR = on",
    "PartonLevel:FSR = on",
    "HadronLevel:all = on",
    "ParticleDecays:limitTau0 = on",
    "ParticleDecays:tau0Max = 10.",
    "Print:quiet = on",
)

_HADRONIC_W = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
_HADRONIC_Z = ("WeakZ0:gmZmode = 2", "23:onMode = off", "23:onIfAny = 1 2 3 4 5")
_INVISIBLE_Z = ("WeakZ0:gmZmode = 2", "23:onMode = off", "23:onIfAny = 12 14 16")
_TTBAR = ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", "PhaseSpace:pTHatMin = 400.")
# H is produced with a Z(->nu nu), so the Higgs jet is the only visible hard object.
_HZ = ("HiggsSM:ffbar2HZ = on", *_INVISIBLE_Z, "PhaseSpace:pTHatMin = 400.", "25:onMode = off")


@dataclass(frozen=True)
class Process:
    """One generator process.

    Args:
        name: process name (``"QCD"``, ``"Tbqq"``, ..., ``"qg"``).
        label: class index written to every jet (for ``qg`` the label comes from the
            matched parton instead: quark = 1, gluon = 0).
        settings: Pythia settings for this process, applied after ``COMMON_SETTINGS``.
        radius: anti-kT radius R.
        pt_min, pt_max: jet pT window in GeV.
        eta_max: cut on |eta| of the jet (on |y| if ``use_rapidity``).
        use_rapidity: cut on rapidity rather than pseudorapidity.
        resonance: PDG id of the decaying resonance that signal jets are matched to
            (``0``: no matching, every jet in the window is kept).
        decay: visible decay products the resonance must have, as (quarks, charged
            leptons, gluons); all of them must lie within ``radius`` of the jet axis.
        match_parton: match jets to the outgoing hard parton (quark/gluon labelling).
    """

    name: str
    label: int
    settings: tuple[str, ...]
    radius: float = 0.8
    pt_min: float = 500.0
    pt_max: float = 1000.0
    eta_max: float = 2.0
    use_rapidity: bool = False
    resonance: int = 0
    decay: tuple[int, int, int] = (0, 0, 0)
    match_parton: bool = False
    description: str = field(default="", compare=False)


PROCESSES: dict[str, Process] = {
    p.name: p
    for p in (
        Process(
            "QCD",
            0,
            ("HardQCD:all = on", "PhaseSpace:pTHatMin = 350."),
            description="QCD 2->2 (HardQCD:all), every jet in the window",
        ),
        Process(
            "Hbb",
            1,
            (*_HZ, "25:onIfAny = 5"),
            resonance=25,
            decay=(2, 0, 0),
            description="H->bb, from HZ with Z->nu nu",
        ),
        Process(
            "Hcc",
            2,
            (*_HZ, "25:onIfAny = 4"),
            resonance=25,
            decay=(2, 0, 0),
            description="H->cc, from HZ with Z->nu nu",
        ),
        Process(
            "Hgg",
            3,
            (*_HZ, "25:onIfAny = 21"),
            resonance=25,
            decay=(0, 0, 2),
            description="H->gg, from HZ with Z->nu nu",
        ),
        Process(
            "H4q",
            4,
            (*_HZ, "25:onIfAny = 24", *_HADRONIC_W),
            resonance=25,
            decay=(4, 0, 0),
            description="H->WW*->4q, from HZ with Z->nu nu",
        ),
        Process(
            "Hqql",
            5,
            (*_HZ, "25:onIfAny = 24"),
            resonance=25,
            decay=(2, 1, 0),
            description="H->WW*->qq l nu (l = e, mu, tau; other WW modes rejected)",
        ),
        Process(
            "Zqq",
            6,
            (
                "WeakBosonAndParton:qqbar2gmZg = on",
                "WeakBosonAndParton:qg2gmZq = on",
                "PhaseSpace:pTHatMin = 400.",
                *_HADRONIC_Z,
            ),
            resonance=23,
            decay=(2, 0, 0),
            description="Z(->qq)+jet",
        ),
        Process(
            "Wqq",
            7,
            (
                "WeakBosonAndParton:qqbar2Wg = on",
                "WeakBosonAndParton:qg2Wq = on",
                "PhaseSpace:pTHatMin = 400.",
                *_HADRONIC_W,
            ),
            resonance=24,
            decay=(2, 0, 0),
            description="W(->qq)+jet",
        ),
        Process(
            "Tbqq",
            8,
            (*_TTBAR, *_HADRONIC_W),
            resonance=6,
            decay=(3, 0, 0),
            description="ttbar, t->bW(->qq)",
        ),
        Process(
            "Tbl",
            9,
            (*_TTBAR, "24:onMode = off", "24:onIfAny = 11 13 15"),
            resonance=6,
            decay=(1, 1, 0),
            description="ttbar, t->bW(->l nu), l = e, mu, tau",
        ),
        Process(
            "qg",
            -1,
            (
                "WeakBosonAndParton:qqbar2gmZg = on",
                "WeakBosonAndParton:qg2gmZq = on",
                "PhaseSpace:pTHatMin = 400.",
                "PhaseSpace:pTHatMax = 700.",
                *_INVISIBLE_Z,
            ),
            radius=0.4,
            pt_min=500.0,
            pt_max=550.0,
            eta_max=1.7,
            use_rapidity=True,
            match_parton=True,
            description="Z(->nu nu)+jet; matched hard parton: quark (u, d, s) 1, gluon 0",
        ),
    )
}


def get_process(name: str) -> Process:
    """The process called ``name``; raises ``ValueError`` listing the known names."""
    try:
        return PROCESSES[name]
    except KeyError:
        known = ", ".join(PROCESSES)
        raise ValueError(f"unknown process {name!r}; known processes: {known}") from None
