"""The virtual machine of the Optimal Ordered Problem Solver: tapes, address map, instruction set.

Schmidhuber, J. (2004). Optimal Ordered Problem Solver. Machine Learning 54:211-254
(arXiv cs/0207097; instruction appendix at people.idsia.ch/~juergen/oopsweb/).

What this module fixes (the kernel in `rnnai.search._kernels` and the Python twin in
`rnnai.search._twin` both execute it):

* **Addresses.** One integer address space. Addresses ``a <= 0`` (down to ``a_min = -3000``) are
  cells of the current task's *tape*; addresses ``1..q_p`` are the shared *code array* ``q``
  (``q_1..a_frozen`` read-only, above it the program being tested). Each task ``k = 1..30`` owns a
  tape; the tape holds, at fixed addresses (`Layout`): the call stack ``cs`` (pointer ``cp`` and
  frames of three cells ``ip``, ``base``, ``out``), the data stack ``ds`` (pointer ``dp``), the
  auxiliary stack ``Ds`` (pointer ``Dp``), the table of self-made functions (``fnp`` and triples
  ``(inputs, outputs, address)``), the task number, the search patterns (``patp``, ``curp`` and
  11 patterns of ``(sum, max, w_1..w_nQ)`` unnormalized instruction weights), the quote flag and
  the task environment (three Hanoi pegs of ``maxtask + 1`` cells each).
* **Illegal steps** halt the current prefix: stack under- and overflow, a value beyond
  ``+-10^9`` pushed or stored as an address, a bad address, division by zero, an unknown
  instruction or function name, a running time above the prefix's limit ``T P(p)``.
* **Instructions.** The 61 general instructions, 5 task-specific ones (``1toD 2toD mvdsk x23
  x34``) and 7 frozen user-written programs (``fak fak2 c999 testexp defnp calltp endnp``), in
  the order of the original program (the order is the enumeration order of the search, so it fixes
  the counts). `INSTRUCTIONS` documents each with its paper name, arguments, cost and effect.

Deviations from the original C program (oopscode.c), each only where that program's behaviour is
undefined or corrupts its own search state:

* ``findb`` scanning past the end of its tape reads on into the previous task's tape, as the
  C program's memory layout makes it do; before the first tape it halts (the C program would read
  unrelated memory). Any other tape access outside ``[a_min, 0]`` halts the prefix.
* A full undo stack halts the prefix without writing the cell; the C program writes the cell
  unrecorded (and so could not restore it). Its stack holds 6,000,000 entries; the paper reports
  fewer than 20,000 in use.
* Integers are 64-bit (the original ran with 32-bit ``long``): a product of two pushed values
  never wraps, it is rejected by the +-10^9 bound instead.
* ``grt`` pushes 1 iff the popped top exceeds the popped second element (``pop() > pop()`` in C
  leaves the order to the compiler; we take left to right).

Kept on purpose because the counts depend on them: ``pupat`` reads the *address* of the pattern
pointer instead of its content and therefore always halts (so ``setpat`` can only select pattern
0), ``down`` returns early when the outputs already start *at* ``base`` (not ``base + 1``), the
success test of ``1^n2^n`` needs one more cell below the ``n`` ones on ``Ds``, and a halting
instruction still finishes its other effects and the success test still runs after it.

Examples:
    >>> from rnnai.search.vm import InstructionSet
    >>> iset = InstructionSet()
    >>> iset.n_q, iset.encode("defnp 2toD")
    (73, [71, 2])
    >>> iset.decode([71, 2])
    'defnp 2toD'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnai.runtime.errors import RnnaiError

__all__ = [
    "FROZEN_PROGRAMS",
    "INSTRUCTIONS",
    "Instruction",
    "InstructionSet",
    "Layout",
    "MachineError",
    "PAPER_INSTRUCTIONS",
]

# --------------------------------------------------------------------------- machine constants
A_MIN = -3000
"""Lowest tape address; the tape holds addresses ``A_MIN..0``."""
A_MAX = 10_000
"""Highest code address (``q`` holds at most this many instructions)."""
MAX_TASK = 30
"""Most tasks (tapes) at once."""
MAX_CP = 300
"""Most call-stack cells (100 frames of 3)."""
MAX_DP = 200
"""Data-stack and auxiliary-stack depth."""
MAX_FN = 100
"""Most self-made functions."""
MAX_PAT = 10
"""Highest search-pattern number."""
MAX_V = 100
"""Named vectors (reserved tape space, unused by the instruction set)."""
MAX_DATA = 800
"""Vector cells (reserved tape space, unused by the instruction set)."""
MAX_INT = 1_000_000_000
"""Largest value a stack cell or stored address may hold (and ``-MAX_INT`` the smallest)."""
UNDO_CAPACITY = 6_000_000
"""Undo-stack entries of the original program."""
T_LIMIT = 10**18 // 2
"""``T`` stops doubling here (the C program's ``maxlolo / 2``)."""

# register indices of the int64 ``reg`` array shared by kernel and twin
R_TASK, R_HALT, R_JUMPED, R_PUSHEN, R_SP, R_T, R_TOTALT, R_INSTS, R_PREFS = range(9)
R_TBIG, R_QP, R_AFROZEN, R_ALAST, R_ACURRENT, R_OLDP, R_UNSOLVED, R_ANCHOR = range(9, 17)
R_PEAKSP, R_TOPT, R_STAGE, R_PHASE, R_RING_LO, R_RING_HI, R_DONE, R_CRASH = range(17, 25)
N_REG = 25
# R_PEAKSP is noted where the undo stack shrinks and when a kernel returns (not at every push);
# R_TOPT is no longer tracked (it cost a load and a compare per instruction and was never
# reported); its slot stays so that the register layout and checkpoints keep their shape.
# ``lvl`` columns (one row per code address: the state before that address's instruction)
V_SP, V_LAST, V_SQ, V_T = range(4)
# ``lay`` indices
(L_W, L_ACP, L_ADP, L_AENDSTACK, L_ADDP, L_AFNP, L_ATASK, L_APATP, L_ACURP) = range(9)
(L_AENDPATS, L_AQUOTE, L_AENV, L_DSIZE, L_NQ, L_QUOTE, L_UPSQ, L_CAP, L_KIND, L_NDECL) = range(
    9, 19
)
N_LAY = 19
KIND_SYMMETRY, KIND_HANOI = 0, 1


class MachineError(RnnaiError):
    """A malformed program, instruction set, machine state or task definition."""


@dataclass(frozen=True)
class Instruction:
    """One instruction of the machine.

    Attributes:
        name: The name the paper prints in programs (e.g. ``boostq``, ``2toD``).
        c_name: The function name in the original C program, where it differs.
        args: What it pops (top first) or reads, e.g. ``"x y"``; empty when none.
        cost: Time steps charged: 1, plus the extra the paper states (``1 + n`` for copies).
        effect: What it does; "halt" names the illegal cases.
        group: ``general``, ``task`` (task-specific) or ``frozen`` (a user-written program).
    """

    name: str
    c_name: str
    args: str
    cost: str
    effect: str
    group: str = "general"


def _g(name: str, args: str, effect: str, cost: str = "1", c_name: str = "") -> Instruction:
    return Instruction(name, c_name or name, args, cost, effect, "general")


def _t(name: str, args: str, effect: str, c_name: str = "") -> Instruction:
    return Instruction(name, c_name or name, args, "1", effect, "task")


# Order = the original program's instruction numbers 1..66 (the search enumerates in this order).
PRIMITIVES: tuple[Instruction, ...] = (
    _t("1toD", "", "push 1 onto Ds (1^n2^n)", "onetoD"),
    _t("2toD", "", "push 2 onto Ds (1^n2^n)", "twotoD"),
    _t(
        "mvdsk",
        "ds[base+1] ds[base+3]",
        "move the top disk from peg ds[base+1] to peg ds[base+3]; halt if a peg number is not "
        "1..3, the pegs coincide, the source is empty or the disk is larger than the target's top",
    ),
    _t("x23", "", "swap the 2nd and 3rd element from the top of ds (Hanoi: aux <-> dest)"),
    _t("x34", "", "swap the 3rd and 4th element from the top of ds (Hanoi: source <-> aux)"),
    _g(
        "bsf",
        "n",
        "call the code on ds at base+n+1 as a function (new frame, all of ds as input and output)",
    ),
    _g(
        "boostq",
        "i",
        "for each instruction of frozen program i (counted above the 7 declared programs) add "
        "nQ to its weight in the current pattern; halt if there is no such program",
        "1 + size",
        "oldSQ",
    ),
    _g("add", "x y", "push y + x"),
    _g("mul", "x y", "push y * x"),
    _g("powr", "n m", "push m^n (1 if m <= 1; stops growing once beyond +-10^9)"),
    _g("sub", "x y", "push y - x"),
    _g("div", "x y", "push y / x truncated to zero; halt if x = 0", c_name="divide"),
    _g("inc", "x", "push x + 1"),
    _g("dec", "x", "push x - 1"),
    _g("by2", "x", "push 2x"),
    _g(
        "getq",
        "i",
        "push the code of frozen program i (0..oldp) onto ds",
        "1 + size",
    ),
    _g("insq", "b i", "insert the code of frozen program i into ds after base+b", "1 + 2 sizes"),
    _g(
        "findb",
        "k",
        "push the first position i > base with ds[i] = k (scanning upwards)",
        "1 + cells scanned",
    ),
    _g("incQ", "i (top, kept)", "add 1 to instruction i's weight", c_name="incSQ"),
    _g(
        "decQ",
        "i (top, kept)",
        "subtract 1 from instruction i's weight; halt if that would leave fewer than 2 with "
        "nonzero weight",
        c_name="decSQ",
    ),
    _g(
        "pupat",
        "",
        "push a copy of the current search pattern; as in the original program (which reads the "
        "pattern pointer's address instead of its content) it always halts",
    ),
    _g("setpat", "i", "make pattern i (0..patp) the current search pattern"),
    _g("insn", "b n a", "insert n cells from ds[base+a] after ds[base+b]", "1 + copies"),
    _g("mvn", "b n a", "copy n cells from ds[base+a] to ds[base+b]", "1 + n"),
    _g("deln", "n m", "delete n cells of ds after base+m", "1 + moved cells"),
    _g("intpf", "", "push the number of inputs of the newest self-made function"),
    _g(
        "def",
        "out in",
        "define a new function (fnp + 1) with `in` inputs and `out` outputs whose code starts "
        "after this instruction",
    ),
    _g("topf", "", "push fnp, the name of the newest self-made function"),
    _g(
        "dof",
        "f",
        "call self-made function f (new call frame, ip = its address); recursion allowed",
    ),
    _g("oldf", "i", "call frozen program i as a function (no inputs or outputs)"),
    _g("bsjmp", "n", "jump to the code on ds at base+n+1"),
    _g("ret", "", "return from the current frame, its outputs replacing its inputs", "1 + out"),
    _g("rt0", "x", "ret if x <= 0"),
    _g("neg", "x", "push -x (1 if x = 0)"),
    _g("eq", "x y", "push 1 if x = y else 0"),
    _g("grt", "x y", "push 1 if x > y else 0"),
    _g("clear", "", "empty ds"),
    _g("del", "", "drop the top of ds"),
    _g("up", "", "duplicate the top of ds"),
    _g("ex", "", "swap the two top elements of ds"),
    _g("jmp1", "c a", "if c > 0 jump to address a"),
    _g("outn", "n", "push a copy of the n-th element from the top"),
    _g("inn", "n", "overwrite the n-th element from the top with the top"),
    _g("cpn", "n", "push copies of the n top elements", "1 + n"),
    _g("xmn", "m n", "swap the m-th and n-th elements from the top"),
    _g("outb", "n", "push a copy of ds[base+n]"),
    _g("inb", "n", "overwrite ds[base+n] with the top"),
    _g("cpnb", "n", "push copies of the n elements above base", "1 + n"),
    _g("xmnb", "m n", "swap ds[base+m] and ds[base+n]"),
    _g("ip2ds", "", "push the instruction pointer"),
    _g("pip", "a", "set the instruction pointer to a (then the step adds 1)"),
    _g("pushdp", "", "push dp + 1 (the stack height after the push)"),
    _g("popdp", "d", "set the stack height to d (0..200)"),
    _g("toD", "x", "move x onto Ds"),
    _g("fromD", "", "push a copy of the top of Ds"),
    _g("delD", "", "drop the top of Ds"),
    _g("tsk", "", "push the task number n"),
    _g("c0", "", "push 0"),
    _g("c1", "", "push 1"),
    _g("c2", "", "push 2"),
    _g("c3", "", "push 3"),
    _g("c4", "", "push 4"),
    _g("c5", "", "push 5"),
    _g("exec", "i", "execute instruction number i (1..nQ)"),
    _g("qot", "", "quote: push the numbers of the following instructions until the next qot"),
    _g("nop", "", "do nothing (structures code: ``(``, ``)``)"),
)


@dataclass(frozen=True)
class FrozenProgram:
    """A user-written program stored read-only in ``q`` and callable as an instruction.

    Attributes:
        name: Its instruction name.
        inputs: Values it takes from ds (-1: its frame's base stays the caller's: all of ds).
        outputs: Values it returns (-1: all).
        body: Its code, instruction names separated by spaces.
        effect: What it computes.
    """

    name: str
    inputs: int
    outputs: int
    body: str
    effect: str


FROZEN_PROGRAMS: tuple[FrozenProgram, ...] = (
    FrozenProgram("fak", 1, 1, "up c1 ex rt0 del up dec fak mul ret", "n! by recursion"),
    FrozenProgram(
        "fak2",
        1,
        1,
        "c1 c1 def up c1 ex rt0 del up dec topf dof mul ret",
        "n! through a self-made recursive function",
    ),
    FrozenProgram("c999", 0, 1, "c4 c5 powr c5 c5 mul sub ret", "push 999"),
    FrozenProgram(
        "testexp", 2, 1, "c4 mul dec c3 c2 mul mul mul up mul ret", "pop x, y; push (6x(4y-1))^2"
    ),
    FrozenProgram(
        "defnp",
        -1,
        -1,
        "c0 toD pushdp dec toD qot def up rt0 dec intpf cpn qot ret",
        "begin defining a recursive procedure whose parameter count it keeps on Ds; quotes the "
        "procedure's entry test (return if n = 0)",
    ),
    FrozenProgram(
        "calltp",
        -1,
        -1,
        "qot topf dof intpf cpn qot ret",
        "quote a call of the newest procedure on copies of its parameters",
    ),
    FrozenProgram(
        "endnp",
        -1,
        -1,
        "qot ret qot fromD cpnb fromD up delD fromD ex bsf ret",
        "quote the procedure's return, then call the procedure just written on ds",
    ),
)

INSTRUCTIONS: tuple[Instruction, ...] = PRIMITIVES + tuple(
    Instruction(
        f.name,
        f.name,
        "(all of ds)" if f.inputs < 0 else f"{f.inputs} inputs",
        "1 + its code's steps",
        f"frozen program `{f.body}`: {f.effect}",
        "frozen",
    )
    for f in FROZEN_PROGRAMS
)
"""All 73 instructions of the paper's experiments, numbered 1..73 in this order."""

PAPER_INSTRUCTIONS: tuple[str, ...] = tuple(i.name for i in INSTRUCTIONS)
N_GENERAL = sum(i.group == "general" for i in PRIMITIVES)
assert N_GENERAL == 61 and len(PRIMITIVES) == 66


@dataclass(frozen=True)
class Layout:
    """Tape addresses (all <= 0) of the machine's parts, for ``n_q`` instructions.

    Attributes:
        n_q: Number of instructions (search patterns hold one weight per instruction).
    """

    n_q: int

    @property
    def acp(self) -> int:
        """Call-stack pointer ``cp``; frames at ``acp + cp + 1..3`` (ip, base, out)."""
        return A_MIN

    @property
    def adp(self) -> int:
        """Data-stack pointer ``dp``; ds[i] at ``adp + i``."""
        return A_MIN + MAX_CP + 1

    @property
    def aendstack(self) -> int:
        """Last data-stack cell."""
        return self.adp + MAX_DP

    @property
    def aDp(self) -> int:  # noqa: N802 (the paper's symbol)
        """Auxiliary-stack pointer ``Dp``; Ds[i] at ``aDp + i``."""
        return self.aendstack + 1

    @property
    def afnp(self) -> int:
        """Self-made-function count ``fnp``; function f's triple at ``afnp + 3f - 2..3f``."""
        return self.aDp + MAX_DP + 1

    @property
    def atask(self) -> int:
        """The task number."""
        return self.afnp + 3 * MAX_FN + 1 + 2 * MAX_V + MAX_DATA + 1

    @property
    def apatp(self) -> int:
        """Number of the topmost search pattern ``patp``."""
        return self.atask + 1

    @property
    def acurp(self) -> int:
        """Current pattern ``curp``; pattern j's (sum, max, w_1..) at ``acurp + j(nQ+2) + 1..``."""
        return self.apatp + 1

    @property
    def aendpats(self) -> int:
        """Last cell of the search patterns."""
        return self.acurp + (MAX_PAT + 1) * (self.n_q + 2)

    @property
    def aquote(self) -> int:
        """The quote flag."""
        return self.aendpats + 1

    @property
    def aenv(self) -> int:
        """Task environment: peg k's top pointer at ``aenv + (k-1)(maxtask+1)``, disks above."""
        return self.aquote + 1

    def array(self, quote: int, up: int, cap: int, kind: int, ndecl: int) -> np.ndarray:
        """The ``lay`` int64 array the kernels read."""
        lay = np.zeros(N_LAY, dtype=np.int64)
        lay[L_W] = -A_MIN + 1
        lay[L_ACP], lay[L_ADP], lay[L_AENDSTACK], lay[L_ADDP] = (
            self.acp,
            self.adp,
            self.aendstack,
            self.aDp,
        )
        lay[L_AFNP], lay[L_ATASK], lay[L_APATP], lay[L_ACURP] = (
            self.afnp,
            self.atask,
            self.apatp,
            self.acurp,
        )
        lay[L_AENDPATS], lay[L_AQUOTE], lay[L_AENV] = self.aendpats, self.aquote, self.aenv
        lay[L_DSIZE], lay[L_NQ], lay[L_QUOTE], lay[L_UPSQ] = MAX_TASK + 1, self.n_q, quote, up
        lay[L_CAP], lay[L_KIND], lay[L_NDECL] = cap, kind, ndecl
        if self.aenv + 3 * (MAX_TASK + 1) > 0:
            raise MachineError(
                f"{self.n_q} instructions do not fit the tape: search patterns end at "
                f"{self.aendpats}, the environment needs {3 * (MAX_TASK + 1)} cells below 0"
            )
        return lay


class InstructionSet:
    """The paper's 73 instructions with name <-> number conversion and program parsing."""

    def __init__(self) -> None:
        self.instructions = INSTRUCTIONS
        self.names = PAPER_INSTRUCTIONS
        self.number = {n: i + 1 for i, n in enumerate(self.names)}
        for inst in self.instructions:
            self.number.setdefault(inst.c_name, self.number[inst.name])
        self.quote = self.number["qot"]

    @property
    def n_q(self) -> int:
        """Number of instructions."""
        return len(self.names)

    def encode(self, program: str | list[str]) -> list[int]:
        """Instruction numbers of a program given as names.

        Args:
            program: Names separated by spaces, or a list of names.

        Returns:
            The numbers (1-based).

        Raises:
            MachineError: For an unknown name (with the closest names).
        """
        words = program.split() if isinstance(program, str) else list(program)
        out = []
        for w in words:
            if w not in self.number:
                import difflib

                close = difflib.get_close_matches(w, self.number, n=3)
                raise MachineError(f"unknown instruction {w!r}; did you mean {close}?")
            out.append(self.number[w])
        return out

    def decode(self, numbers: list[int] | np.ndarray) -> str:
        """Names of instruction numbers, space separated ("?k" for a number out of range)."""
        return " ".join(self.names[k - 1] if 1 <= k <= self.n_q else f"?{int(k)}" for k in numbers)

    def optab(self, starts: list[int]) -> np.ndarray:
        """``(n_q + 1, 4)`` int64: per instruction (primitive id or 0, inputs, outputs, address).

        Args:
            starts: Code addresses of the frozen programs, in `FROZEN_PROGRAMS` order.
        """
        tab = np.zeros((self.n_q + 1, 4), dtype=np.int64)
        for k in range(1, len(PRIMITIVES) + 1):
            tab[k, 0] = k
        for j, f in enumerate(FROZEN_PROGRAMS):
            k = len(PRIMITIVES) + 1 + j
            tab[k] = (0, f.inputs, f.outputs, starts[j])
        return tab


def instruction_table_markdown() -> str:
    """The documented instruction set as a markdown table (for docs and REPORT.md)."""
    rows = [
        "| # | name | C name | group | pops/reads | cost | effect |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, i in enumerate(INSTRUCTIONS, 1):
        rows.append(
            f"| {k} | {i.name} | {i.c_name} | {i.group} | {i.args} | {i.cost} | {i.effect} |"
        )
    return "\n".join(rows)
