"""The global surrogate's decision tree, drawn as a tree: one rounded box per node (split rule,
sample count, class mix as counts, a two-colour bar and the worn share; leaves name the class they
predict in bold text, never by colour alone) and elbow edges labelled yes/no (left = rule holds).

The widget takes the explanation engine's plain node dicts, so it imports nothing from the core.
Items are built once per ``set_tree``; zooming and panning are the view's transform only. Deep
trees (depth 6, up to 64 leaves) make a wide scene: the view opens at a readable scale on the
root and the user zooms (wheel, Ctrl+wheel, +/-), pans (drag) or fits the whole tree (F, 0).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPalette, QPen, QTransform
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QLabel,
    QMenu,
)

from ..theme import (
    TREE_BAR_FRAME,
    TREE_BOX_BORDER,
    TREE_BOX_FILL,
    TREE_BOX_INK,
    TREE_CLASS_COLOURS,
    TREE_HINT_STYLE,
    TREE_LEAF_FILLS,
    TREE_OTHER_CLASS,
    TREE_SELECTED_BORDER,
)

CLASS_COLOURS = tuple(QColor(colour) for colour in TREE_CLASS_COLOURS)  # unworn, worn
LEAF_FILLS = tuple(QColor(colour) for colour in TREE_LEAF_FILLS)  # behind the bold class name
OTHER_CLASS = QColor(TREE_OTHER_CLASS)
BOX_FILL = QColor(TREE_BOX_FILL)
BOX_BORDER = QColor(TREE_BOX_BORDER)
BOX_INK = QColor(TREE_BOX_INK)  # boxes are light cards on either theme, so their text is always dark
SELECTED_BORDER = QColor(TREE_SELECTED_BORDER)
BAR_FRAME = QColor(TREE_BAR_FRAME)

PADDING = 10.0
MIN_BOX_WIDTH = 180.0
H_GAP = 26.0  # between neighbouring leaf slots
V_GAP = 56.0  # between levels: room for the elbow and its yes/no label
BAR_HEIGHT = 10.0
RADIUS = 6.0
SCENE_MARGIN = 30.0

READABLE_SCALE = 0.7  # below this the box text is too small to read: open at this scale instead of fitting
MAX_FIT_SCALE = 1.25  # a small tree is not blown up to fill a big view
MIN_SCALE, MAX_SCALE = 0.03, 5.0
ZOOM_STEP = 1.25


def tree_layout(nodes: Sequence[dict]) -> dict[int, tuple[float, int]]:
    """``{id: (x, depth)}`` in leaf-slot units: leaves take consecutive slots left to right, each
    parent sits midway between its two children. Same-depth nodes own disjoint leaf ranges, so
    they are at least one slot apart and boxes one slot wide never overlap."""
    by_id = {node["id"]: node for node in nodes}
    if not by_id:
        return {}
    root = 0 if 0 in by_id else next(n["id"] for n in nodes if n.get("parent") is None)
    positions: dict[int, tuple[float, int]] = {}
    next_leaf = 0.0
    # iterative post-order: (id, depth, children done?)
    stack: list[tuple[int, int, bool]] = [(root, 0, False)]
    while stack:
        node_id, depth, expanded = stack.pop()
        kids = _children(by_id, node_id)
        if not kids:
            positions[node_id] = (next_leaf, depth)
            next_leaf += 1.0
        elif expanded:
            xs = [positions[kid][0] for kid in kids]
            positions[node_id] = ((xs[0] + xs[-1]) / 2.0, depth)
        else:
            stack.append((node_id, depth, True))
            stack.extend((kid, depth + 1, False) for kid in reversed(kids))
    return positions


def _children(by_id: dict[int, dict], node_id: int) -> list[int]:
    """The node's children present in the tree, left (rule holds) first."""
    node = by_id[node_id]
    return [kid for kid in (node.get("left"), node.get("right")) if kid is not None and kid in by_id]


def format_threshold(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.1f}"
    if magnitude >= 1 or value == 0:
        return f"{value:.2f}"
    return f"{value:.3g}"


def format_share(fraction: float) -> str:
    """A whole percentage that never rounds an impure node to 0 % or 100 %."""
    if 0 < fraction < 0.005:
        return "< 1 %"
    if 0.995 <= fraction < 1:
        return "> 99 %"
    return f"{round(100 * fraction)} %"


def split_text(node: dict) -> str:
    """The node's own split as ``feature ≤ threshold`` ("" for a leaf)."""
    if node.get("feature") is not None and node.get("threshold") is not None:
        return f"{node['feature']} ≤ {format_threshold(float(node['threshold']))}"
    return (node.get("rule") or "").replace("<=", "≤")


def predicted_class(node: dict, class_names: Sequence[str]) -> str:
    counts = list(node.get("class_counts") or [])
    if not counts:
        return "?"
    best = max(range(len(counts)), key=lambda i: (counts[i], -i))  # ties go to the first class, as in sklearn
    return class_names[best] if best < len(class_names) else f"class {best}"


class NodeBox(QGraphicsRectItem):
    """A rounded card; its texts and bar are child items so they move and hide with it."""

    def __init__(self, node_id: int, rect: QRectF, fill: QColor):
        super().__init__(rect)
        self.node_id = node_id
        self.setBrush(QBrush(fill))
        self.setPen(QPen(BOX_BORDER, 1.2))
        self.selected = False

    def set_selected(self, selected: bool) -> None:
        self.selected = selected
        self.setPen(QPen(SELECTED_BORDER, 3.5) if selected else QPen(BOX_BORDER, 1.2))
        self.setZValue(1 if selected else 0)

    def text(self) -> str:
        """All the box's text, line by line (for tests and accessibility)."""
        return "\n".join(child.text() for child in self.childItems() if isinstance(child, QGraphicsSimpleTextItem))

    def paint(self, painter, option, widget=None):
        painter.setPen(self.pen())
        painter.setBrush(self.brush())
        painter.drawRoundedRect(self.rect(), RADIUS, RADIUS)


class SurrogateTreeView(QGraphicsView):
    """Click a node to select it: it is outlined and ``node_selected(id)`` is emitted."""

    node_selected = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHints(QPainter.Antialiasing | QPainter.TextAntialiasing)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setViewportUpdateMode(QGraphicsView.SmartViewportUpdate)
        self.setFocusPolicy(Qt.StrongFocus)
        self.boxes: dict[int, NodeBox] = {}
        self.edges: dict[int, QGraphicsPathItem] = {}  # keyed by the child's id
        self.nodes: dict[int, dict] = {}
        self.message: str | None = None
        self.selected_node: int | None = None
        self._root: int | None = None
        self._auto_view = True  # until the user zooms or pans, a resize re-applies the opening view
        self._press_pos = None
        # a sibling of the viewport, not its child: the viewport's scrolling would drag a child along
        self.hint = QLabel("wheel: zoom · drag: pan · F: fit all · click: select", self)
        self.hint.setStyleSheet(TREE_HINT_STYLE)
        self.hint.adjustSize()
        self.clear_tree()

    # --- content -------------------------------------------------------------------------------

    def set_tree(self, nodes: list[dict], class_names: Sequence[str] = ("unworn", "worn")) -> None:
        """Replace the scene with this tree (the engine's node dicts); an empty list shows a placeholder."""
        if not nodes:
            self.clear_tree()
            return
        self._reset_scene()
        self.nodes = {node["id"]: node for node in nodes}
        self._root = 0 if 0 in self.nodes else next(n["id"] for n in nodes if n.get("parent") is None)
        font, bold = self._fonts()
        metrics, bold_metrics = QFontMetricsF(font), QFontMetricsF(bold)
        line = metrics.height()
        texts = {node_id: self._node_lines(node, class_names) for node_id, node in self.nodes.items()}
        widest = max(
            (bold_metrics if i == 0 and self.nodes[node_id]["leaf"] else metrics).horizontalAdvance(text)
            for node_id, lines in texts.items()
            for i, text in enumerate(lines[:3])  # the share shares its row with the bar, which shrinks
        )
        box_w = max(MIN_BOX_WIDTH, widest + 2 * PADDING)
        box_h = 2 * PADDING + 4 * line + BAR_HEIGHT + 4
        slot, level = box_w + H_GAP, box_h + V_GAP

        ink = self.palette().color(QPalette.Text)
        edge_pen = QPen(ink, 1.4)
        positions = tree_layout(nodes)
        for node_id, (x_slot, depth) in positions.items():
            node = self.nodes[node_id]
            rect = QRectF(x_slot * slot, depth * level, box_w, box_h)
            self._add_box(node, rect, texts[node_id], class_names, font, bold, line)
        for node_id in positions:
            kids = _children(self.nodes, node_id)
            for kid, label in zip(kids, ("yes", "no")):
                self._add_edge(self.boxes[node_id].rect(), self.boxes[kid].rect(), kid, label, edge_pen, ink, font)
        bounds = self.scene().itemsBoundingRect().adjusted(-SCENE_MARGIN, -SCENE_MARGIN, SCENE_MARGIN, SCENE_MARGIN)
        self.scene().setSceneRect(bounds)
        self._auto_view = True
        self.hint.show()
        self._opening_view()

    def clear_tree(self, message: str = "No surrogate tree to show yet.") -> None:
        """Empty the scene and show ``message`` centred in the view."""
        self._reset_scene()
        self.message = message
        _, bold = self._fonts()
        bold.setPointSizeF(bold.pointSizeF() * 1.2)
        ink = self.palette().color(QPalette.Text)
        y = 0.0
        lines = message.splitlines() or [""]
        widths = [QFontMetricsF(bold).horizontalAdvance(text) for text in lines]
        for text, width in zip(lines, widths):
            item = QGraphicsSimpleTextItem(text)
            item.setFont(bold)
            item.setBrush(ink)
            item.setPos((max(widths) - width) / 2, y)
            self.scene().addItem(item)
            y += QFontMetricsF(bold).height()
        self.scene().setSceneRect(self.scene().itemsBoundingRect())
        self.resetTransform()  # the view's centre alignment centres the small scene
        self.hint.hide()

    def select_node(self, node_id: int | None) -> None:
        """Outline a node (None clears); does not emit ``node_selected``."""
        if self.selected_node in self.boxes:
            self.boxes[self.selected_node].set_selected(False)
        self.selected_node = node_id if node_id in self.boxes else None
        if self.selected_node is not None:
            self.boxes[self.selected_node].set_selected(True)

    def node_rect(self, node_id: int) -> QRectF:
        """The node's box in scene coordinates."""
        return self.boxes[node_id].sceneBoundingRect()

    def node_text(self, node_id: int) -> str:
        return self.boxes[node_id].text()

    # --- view ----------------------------------------------------------------------------------

    @property
    def scale_factor(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        """Fit the whole tree in the view (text may get small on deep trees)."""
        self._set_scale(self._fit_scale())
        self.centerOn(self.scene().sceneRect().center())

    def _fit_scale(self) -> float:
        scene, port = self.scene().sceneRect(), self.viewport().rect()
        if scene.isEmpty() or port.isEmpty():
            return 1.0
        return min(MAX_FIT_SCALE, port.width() / scene.width(), port.height() / scene.height())

    def zoom_in(self) -> None:
        self._zoom(ZOOM_STEP, QGraphicsView.AnchorViewCenter)

    def zoom_out(self) -> None:
        self._zoom(1 / ZOOM_STEP, QGraphicsView.AnchorViewCenter)

    def _zoom(self, factor: float, anchor) -> None:
        if not self.boxes:
            return
        self._auto_view = False
        target = min(MAX_SCALE, max(MIN_SCALE, self.scale_factor * factor))
        previous = self.transformationAnchor()
        self.setTransformationAnchor(anchor)
        self.scale(target / self.scale_factor, target / self.scale_factor)
        self.setTransformationAnchor(previous)

    def _set_scale(self, scale: float) -> None:
        self.setTransform(QTransform.fromScale(scale, scale))

    def _opening_view(self) -> None:
        """Fit if the text stays readable; otherwise a readable scale with the root at the top."""
        if not self.boxes:
            return
        if self._fit_scale() >= READABLE_SCALE:
            self.fit()
            return
        self._set_scale(READABLE_SCALE)
        root = self.boxes[self._root].rect()
        visible_h = self.viewport().height() / READABLE_SCALE
        self.centerOn(root.center().x(), root.top() - SCENE_MARGIN + visible_h / 2)

    # --- events --------------------------------------------------------------------------------

    def wheelEvent(self, event):
        """Wheel and Ctrl+wheel both zoom, around the mouse; Shift+wheel and sideways wheels
        (touchpads) pan horizontally."""
        delta = event.angleDelta()
        if event.modifiers() & Qt.ShiftModifier or abs(delta.x()) > abs(delta.y()):
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - (delta.x() or delta.y()))
            self._auto_view = False
            event.accept()
            return
        steps = delta.y() / 120.0
        if steps:
            self._zoom(ZOOM_STEP ** steps, QGraphicsView.AnchorUnderMouse)
        event.accept()

    def keyPressEvent(self, event):
        key = event.key()
        if key in (Qt.Key_Plus, Qt.Key_Equal):
            self.zoom_in()
        elif key == Qt.Key_Minus:
            self.zoom_out()
        elif key in (Qt.Key_0, Qt.Key_F):
            self._auto_view = False
            self.fit()
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event):
        self._press_pos = event.position()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event):
        """A click (press and release without a drag) selects; a drag only pans."""
        super().mouseReleaseEvent(event)
        if self._press_pos is None or event.button() != Qt.LeftButton:
            return
        moved = (event.position() - self._press_pos).manhattanLength()
        self._press_pos = None
        if moved > QApplication.startDragDistance():
            self._auto_view = False
            return
        box = self._box_at(event.position().toPoint())
        if box is not None:
            self.select_node(box.node_id)
            self.node_selected.emit(box.node_id)

    def contextMenuEvent(self, event):
        if not self.boxes:
            return
        menu = QMenu(self)
        menu.addAction("Fit to view (F)", lambda: (setattr(self, "_auto_view", False), self.fit()))
        menu.addAction("Zoom in (+)", self.zoom_in)
        menu.addAction("Zoom out (−)", self.zoom_out)
        menu.exec(event.globalPos())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        port = self.viewport().geometry()
        self.hint.move(port.left() + 6, port.bottom() - self.hint.height() - 5)
        self.hint.raise_()
        if self._auto_view:
            self._opening_view()

    # --- building ------------------------------------------------------------------------------

    def _reset_scene(self) -> None:
        self.scene().clear()
        self.boxes, self.edges, self.nodes = {}, {}, {}
        self.message = None
        self.selected_node = None
        self._root = None

    def _fonts(self) -> tuple[QFont, QFont]:
        font = QFont(self.font())
        bold = QFont(font)
        bold.setBold(True)
        return font, bold

    @staticmethod
    def _node_lines(node: dict, class_names: Sequence[str]) -> list[str]:
        """Title (split rule, or the predicted class in capitals for a leaf), samples, counts, share."""
        counts = [float(c) for c in node.get("class_counts") or []]
        total = sum(counts)
        title = predicted_class(node, class_names).upper() if node["leaf"] else split_text(node)
        mix = " · ".join(f"{name} {round(c):,}" for name, c in zip(class_names, counts))
        positive = class_names[-1] if class_names else "class 1"
        share = format_share(counts[-1] / total) if total and len(counts) > 1 else "– %"
        return [title, f"samples = {int(node.get('samples', total)):,}", mix, f"{positive} {share}"]

    def _add_box(self, node: dict, rect: QRectF, lines: list[str], class_names, font: QFont, bold: QFont,
                 line: float) -> None:
        counts = [float(c) for c in node.get("class_counts") or []]
        if node["leaf"]:
            winner = class_names.index(predicted_class(node, class_names)) if counts else -1
            fill = LEAF_FILLS[winner] if 0 <= winner < len(LEAF_FILLS) else BOX_FILL
        else:
            fill = BOX_FILL
        box = NodeBox(node["id"], rect, fill)
        self.scene().addItem(box)
        self.boxes[node["id"]] = box
        box.setToolTip(self._tooltip(node, lines))

        y = rect.top() + PADDING
        for i, text in enumerate(lines[:3]):
            item = QGraphicsSimpleTextItem(text, box)
            item.setFont(bold if i == 0 and node["leaf"] else font)
            item.setBrush(BOX_INK)
            width = item.boundingRect().width()
            x = rect.center().x() - width / 2 if i == 0 else rect.left() + PADDING  # titles centred
            item.setPos(x, y)
            y += line
        # the class mix bar, then the positive share to its right
        share = QGraphicsSimpleTextItem(lines[3], box)
        share.setFont(font)
        share.setBrush(BOX_INK)
        share_w = QFontMetricsF(font).horizontalAdvance(f"{class_names[-1] if class_names else 'class 1'} > 99 %")
        bar = QRectF(rect.left() + PADDING, y + 4 + (line - BAR_HEIGHT) / 2, rect.width() - 3 * PADDING - share_w,
                     BAR_HEIGHT)
        share.setPos(rect.right() - PADDING - share.boundingRect().width(), y + 4)
        self._add_bar(box, bar, counts)

    @staticmethod
    def _add_bar(box: NodeBox, bar: QRectF, counts: list[float]) -> None:
        total = sum(counts)
        frame = QGraphicsRectItem(bar, box)
        frame.setPen(QPen(BOX_BORDER, 0.8))
        frame.setBrush(QBrush(BAR_FRAME))
        if not total:
            return
        x = bar.left()
        for i, count in enumerate(counts):
            width = bar.width() * count / total
            if width <= 0:
                continue
            part = QGraphicsRectItem(QRectF(x, bar.top(), width, bar.height()), box)
            part.setPen(Qt.NoPen)
            part.setBrush(QBrush(CLASS_COLOURS[i] if i < len(CLASS_COLOURS) else OTHER_CLASS))
            x += width
        frame.setBrush(Qt.NoBrush)
        frame.setZValue(1)  # the outline above the parts

    def _add_edge(self, parent: QRectF, child: QRectF, child_id: int, label: str, pen: QPen, ink: QColor,
                  font: QFont) -> None:
        """An elbow from the parent's bottom centre to the child's top centre, labelled beside the
        parent's stem (yes = left = the parent's rule holds), so the label stays in view however
        wide the run."""
        start = QPointF(parent.center().x(), parent.bottom())
        end = QPointF(child.center().x(), child.top())
        mid_y = (start.y() + end.y()) / 2
        path = QPainterPath(start)
        path.lineTo(start.x(), mid_y)
        path.lineTo(end.x(), mid_y)
        path.lineTo(end)
        edge = self.scene().addPath(path, pen)
        edge.setZValue(-1)
        self.edges[child_id] = edge
        text = QGraphicsSimpleTextItem(label, edge)
        text.setFont(font)
        text.setBrush(ink)
        size = text.boundingRect()
        x = start.x() - 6 - size.width() if end.x() < start.x() else start.x() + 6
        text.setPos(x, mid_y - size.height() - 1)

    def _box_at(self, pos) -> NodeBox | None:
        item: QGraphicsItem | None = self.itemAt(pos)
        while item is not None and not isinstance(item, NodeBox):
            item = item.parentItem()
        return item

    @staticmethod
    def _tooltip(node: dict, lines: list[str]) -> str:
        head = f"node {node['id']}" + (" (leaf)" if node["leaf"] else f": {split_text(node)}")
        return "\n".join([head, *lines[1:]])
