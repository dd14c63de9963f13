"""A model file is code: check its TorchScript against an op allow-list before loading it.

A ``.ts`` file cannot run Python, but its TorchScript can call any registered op,
and some ops read or write files (``torch.from_file``, ``aten::save``), print, fork
threads or reach custom C++ classes. ``check_model_code`` reads the archive as a zip
(nothing in it is run or unpickled) and refuses a file whose code uses anything a
loop generator does not need. It is an allow-list: an op, name or class it does not
know is refused, never guessed at.

How TorchScript code reaches ops (the serialized ``code/**/*.py`` files, parsed here
with ``ast``):

- ``torch.NAME(...)``: the op ``aten::NAME``; ``ops.NS.NAME(...)``: ``NS::NAME``;
- ``x.NAME(...)`` on a value: a method of a class in the archive, or the op
  ``aten::NAME`` (tensor, list and string methods);
- bare names: TorchScript's globals (``print``, ``fork``, ``range``...) and the
  importer's own (``CONSTANTS``, ``annotate``...);
- ``__torch__.X``: classes and functions the archive defines, except
  ``__torch__.torch.classes.*``, which are C++ classes registered in the process;
- ``data.pkl`` / ``constants.pkl``: GLOBAL opcodes name the classes the unpickler
  builds (checked as opcodes with ``pickletools``, never unpickled).

Before any code is judged, ``livegan.model_archive.check_entries`` holds the archive's names to
those torch writes and its loader finds one way only (its lookup folds case); after
``torch.jit.load`` and before any method runs, ``livegan.model_graph.check_loaded_code`` walks what
torch compiled. This file's check is what stands before the load (the loader itself runs
``__setstate__`` methods); the graph check is the second gate, on what will run.

Thread: main (``LoopModel`` and ``wrap`` run both, around ``torch.jit.load``).
"""
from __future__ import annotations

import ast
import functools
import io
import pickletools
import re
import tokenize
import zipfile

from livegan.model_archive import ModelCodeError, check_entries, check_layout

# aten ops (``torch.X`` / ``ops.aten.X`` / tensor methods): those the project's generators export with
# (every preset and arch / upsample / batchnorm / channel option, the built-in model, the test
# fixtures), plus pure tensor math a generator could reasonably use. No op here touches files,
# processes, the network, the terminal or threads.
ATEN = frozenset("""
__and__ _convolution __contains__ __getitem__ __is__ __isnot__ __not__ __or__ __xor__ __derive_index __range_length
_upsample_bicubic2d_aa _upsample_bilinear2d_aa _upsample_lanczos2d_aa _upsample_nearest_exact1d
_upsample_nearest_exact2d _upsample_nearest_exact3d
abs acos acosh adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d add add_
addcmul addmm alias all amax amin any append arange argmax argmin asin asinh atan atan2 atanh
avg_pool1d avg_pool2d baddbmm batch_norm bmm broadcast_tensors cat ceil celu chunk clamp clamp_ clamp_max
clamp_min clip clone complex conj constant_pad_nd contiguous conv1d conv2d conv_transpose1d
conv_transpose2d copy_ cos cosh cumprod cumsum detach diff dim div div_ dropout einsum elu elu_ embedding
eq erf erfc exp exp2 expand expand_as expm1 extend feature_dropout fft_fft fft_ifft fft_irfft fft_rfft
flatten flip floor floor_divide floordiv fmod format frac full full_like gather ge gelu glu group_norm gt
hardsigmoid hardswish hardtanh hypot imag index index_select instance_norm is_floating_point istft item
layer_norm le leaky_relu leaky_relu_ len lerp linear linspace log log10 log1p log2 log_softmax logaddexp
logical_and logical_not logical_or logsumexp lt masked_fill matmul max max_pool1d max_pool2d maximum mean
min minimum mish mm mode mul mul_ narrow ne neg norm normal numel ones ones_like outer pad permute
pixel_shuffle pixel_unshuffle polar pow prelu prod rand rand_like randn randn_like real reciprocal
reflection_pad1d reflection_pad2d relu relu_ remainder repeat repeat_interleave replication_pad1d
replication_pad2d reshape roll round rsqrt scalar_tensor select selu sigmoid sign silu sin sinh size
slice softmax softplus sort split sqrt square squeeze stack std stft sub sub_ sum t tan tanh tensor
tensor_split tile to topk transpose tril triu true_divide trunc type_as unbind unflatten unsqueeze
upsample_bicubic2d upsample_bilinear2d upsample_linear1d upsample_nearest1d upsample_nearest2d
upsample_nearest3d upsample_trilinear3d var view view_as view_as_complex view_as_real where zero_ zeros
zeros_like Bool Float Int IntImplicit FloatImplicit ScalarImplicit keys values items get insert pop
startswith join
""".split())

# prim ops reachable as ``ops.prim.X``: control flow and type plumbing the serializer writes
PRIM = frozenset("RaiseException Uninitialized unchecked_cast NumToTensor min max abs dtype device shape "
                 "layout TupleIndex data is_cuda requires_grad".split())

# Bare names TorchScript code may use (its globals and the importer's), and type names
NAMES = frozenset("""
torch ops __torch__ CONSTANTS annotate unchecked_cast uninitialized inf nan range len int float bool str
getattr hasattr isinstance min max abs round tuple list dict enumerate zip sum all any divmod pow complex
sorted AssertionError Tensor List Dict Optional Tuple Final NoneType Module Any Union Device number
""".split())

# Every bare name TorchScript resolves globally (its compiler's table and the code importer's,
# torch/csrc/jit/frontend/ir_emitter.cpp and serialization/import_source.cpp); one of these that is not
# in NAMES (print, fork, ...) is refused wherever it appears. Other names are the code's own variables.
RESERVED = NAMES | frozenset("print fork wait hex oct hash id ord chr bin rangelist _to_tensor".split())

# Attributes of values that are not op calls (tensor properties)
PROPS = frozenset("shape dtype device ndim is_cuda requires_grad layout T mT real imag data grad".split())

# Classes the TorchScript unpickler may build from data.pkl / constants.pkl besides the archive's own
PICKLE_GLOBALS = frozenset("""
collections.OrderedDict torch._utils._rebuild_tensor_v2 torch.jit._pickle.build_intlist
torch.jit._pickle.build_doublelist torch.jit._pickle.build_boollist torch.jit._pickle.build_tensorlist
torch.jit._pickle.restore_type_tag torch.FloatStorage torch.DoubleStorage torch.HalfStorage
torch.BFloat16Storage torch.LongStorage torch.IntStorage torch.ShortStorage torch.CharStorage
torch.ByteStorage torch.BoolStorage torch.ComplexFloatStorage torch.device
""".split())


# Class names torch's code importer special-cases into a C++ class attribute (import_source.cpp)
_SPECIAL_CLASSES = {"__torch__.torch.nn.quantized.modules.linear.LinearPackedParams",
                    "__torch__.torch.nn.quantized.modules.linear.Linear"}


_ROOTS = ("torch", "ops", "__torch__", "CONSTANTS")  # names whose attributes are ops, classes, constants


def _dotted(node) -> tuple[list[str], ast.AST]:
    """``a.b.c`` -> (['a', 'b', 'c'], Name a); for a chain on an expression, (attrs, that expression)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return parts[::-1], node


@functools.lru_cache(maxsize=None)
def _is_op(name: str) -> bool:
    import torch

    return any(torch._C._jit_get_schemas_for_operator(f"{ns}::{name}") for ns in ("aten", "prim"))


class _Checker(ast.NodeVisitor):
    def __init__(self, defined: set[str], members: set[str]):
        self.defined, self.members = defined, members

    def refuse(self, what: str):
        raise ModelCodeError(what)

    def visit_Name(self, node: ast.Name):
        if node.id in RESERVED and node.id not in NAMES:
            self.refuse(f"uses '{node.id}'")
        if node.id in _ROOTS:  # only as the head of a checked chain: an alias would escape the check
            self.refuse(f"uses '{node.id}' as a value")

    def visit_Call(self, node: ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr"):
            # getattr(x, "name") reaches what x.name does: the same rule, on a literal name only
            name = node.args[1] if len(node.args) == 2 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self.refuse(f"uses {node.func.id} with a computed name")
            self._member(name.value)
        self.generic_visit(node)

    def visit_Import(self, node):
        self.refuse("imports a module")

    visit_ImportFrom = visit_Import

    def visit_Attribute(self, node: ast.Attribute):
        parts, root = _dotted(node)
        if isinstance(root, ast.Name) and root.id in _ROOTS:
            self._global(parts)
            return
        for attr in parts[1:] if isinstance(root, ast.Name) else parts:
            self._member(attr)
        self.visit(root)

    def _global(self, parts: list[str]):
        text = ".".join(parts)
        head = parts[0]
        if head == "torch":
            if len(parts) != 2 or parts[1] not in ATEN:
                self.refuse(f"uses the op {text}")
        elif head == "ops":
            ns, op = (parts[1:3] + ["", ""])[:2]
            allowed = {"aten": ATEN, "prim": PRIM}.get(ns, frozenset())
            if len(parts) != 3 or op not in allowed:
                self.refuse(f"uses the op {text}")
        elif head == "__torch__":
            if text.startswith("__torch__.torch.classes"):
                self.refuse(f"uses the C++ class {text}")
            if not any(text == d or text.startswith(d + ".") for d in self.defined):
                self.refuse(f"uses {text}, which the file does not define")
        elif len(parts) != 2 or not parts[1].startswith("c") or not parts[1][1:].isdigit():
            self.refuse(f"uses {text}")

    def _member(self, attr: str):
        if attr in ATEN or attr in PROPS:
            return
        if attr in self.members and not _is_op(attr):  # the archive's own fields and methods
            return
        self.refuse(f"uses the method or op '{attr}'")


def _definitions(tree: ast.Module, qualifier: str, defined: set[str], members: set[str]) -> None:
    """Record what one code file defines: qualified top-level names, and class member names."""
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            defined.add(f"{qualifier}.{node.name}")
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    members.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    members.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    for t in item.targets:
                        if isinstance(t, ast.Subscript) and isinstance(t.slice, ast.Constant):
                            members.add(str(t.slice.value))  # __annotations__["0"] = ...


def _pickle_globals(data: bytes) -> list[str]:
    names = []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("GLOBAL", "INST"):
            names.append(".".join(str(arg).split(" ", 1)))
        elif op.name in ("STACK_GLOBAL", "OBJ", "EXT1", "EXT2", "EXT4"):  # a class named off the opcode
            names.append(f"<{op.name}>")
    return names


_PLAIN_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def _check_lexically_plain(text: str) -> None:
    """The code uses only what the serializer writes and both Python's and TorchScript's lexers
    read alike: no comments, no control characters but newlines, no line continuations, and
    strings only as one-line double-quoted literals. Otherwise the two parsers could disagree
    on what is code, and the check would judge text TorchScript never runs."""
    bad = next((c for c in text if (c < " " and c != "\n") or c == "\x7f"), None)
    if bad is not None:
        raise ModelCodeError(f"has the control character {bad!r} in its code")
    outside = list(text)
    lines = text.split("\n")
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln) + 1)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.COMMENT, tokenize.ERRORTOKEN):
                raise ModelCodeError(f"has a {tokenize.tok_name[tok.type].lower()} in its code")
            if tok.type == tokenize.STRING:
                if not _PLAIN_STRING.fullmatch(tok.string):
                    raise ModelCodeError(f"has a string literal TorchScript does not write: {tok.string[:40]}")
                a = offsets[tok.start[0] - 1] + tok.start[1]
                outside[a:a + len(tok.string)] = " " * len(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        raise ModelCodeError("has code that cannot be checked") from None
    code = "".join(outside)
    if "\\" in code:
        raise ModelCodeError("has a backslash outside a string in its code")
    if not code.isascii():  # Python folds non-ASCII names (NFKC), TorchScript does not
        raise ModelCodeError("has a non-ASCII character outside a string in its code")


def _parse_code(zf: zipfile.ZipFile, infos) -> tuple[list, set[str], set[str]]:
    """Parse every ``code/**/*.py`` entry: ([(path, ast)], qualified names defined, class members)."""
    trees, defined, members = [], set(), set()
    for info in infos:
        rel = info.filename.split("/", 1)[-1]
        if not (rel.startswith("code/") and rel.endswith(".py")):
            continue
        try:
            text = zf.read(info).decode("utf-8")
            tree = ast.parse(text, filename=rel)
        except (SyntaxError, ValueError, UnicodeDecodeError, RecursionError, MemoryError):
            raise ModelCodeError(f"has code that cannot be checked ({rel}); refused") from None
        try:
            _check_lexically_plain(text)
        except ModelCodeError as e:
            raise ModelCodeError(f"{e} ({rel}); refused") from None
        _definitions(tree, rel[len("code/"):-len(".py")].replace("/", "."), defined, members)
        trees.append((rel, tree))
    return trees, defined, members


def _check_pickles(zf: zipfile.ZipFile, infos, defined: set[str]) -> None:
    """data.pkl, constants.pkl and the source maps build only tensors and the archive's own classes."""
    for info in infos:
        if not info.filename.endswith((".pkl", ".debug_pkl")):
            continue
        try:
            found = _pickle_globals(zf.read(info))
        except Exception:
            raise ModelCodeError(f"has an unreadable {info.filename.split('/', 1)[-1]}") from None
        for g in found:
            own = g in defined and not g.startswith("__torch__.torch.classes")
            if g not in PICKLE_GLOBALS and not own:
                raise ModelCodeError(f"builds the object {g!r} when loaded; refused")


def check_model_code(path: str) -> None:
    """Raise ModelCodeError naming the first thing off the allow-list in the archive at ``path``;
    zipfile.BadZipFile / OSError if it cannot be read as a zip. Reads, never runs or unpickles."""
    with open(path, "rb") as f, zipfile.ZipFile(f) as zf:
        check_layout(f, zf)
        infos = zf.infolist()
        check_entries(infos)
        for info in infos:  # zipfile checks each entry's local header names the entry, as torch's reader reads it
            zf.open(info).close()
        trees, defined, members = _parse_code(zf, infos)
        special = {re.sub(r"\.___torch_mangle_\d+", "", d) for d in defined} & _SPECIAL_CLASSES
        if special:  # the importer gives these classes a C++ (torch.classes) attribute type by name
            raise ModelCodeError(f"defines {special.pop()}, which TorchScript loads as a C++ class; refused")
        checker = _Checker(defined, members)
        for rel, tree in trees:
            try:
                checker.visit(tree)
            except RecursionError:
                raise ModelCodeError(f"has code nested too deeply to check ({rel}); refused") from None
            except ModelCodeError as e:
                raise ModelCodeError(f"{e} in {rel}; refused (livegan loads only models whose code uses "
                                     "an allow-list of math ops)") from None
        _check_pickles(zf, infos, defined)
