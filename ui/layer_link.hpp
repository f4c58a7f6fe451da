#pragma once
// The layer the heatmaps and the Explain panel show, shared like the step range: all
// layers (-1: the maximum over layers in the heatmaps, the mean layer in Explain) or one
// layer of a per-layer trace. Each view gets its own selector kept in sync with the link.
#include <QObject>

class QComboBox;
class QWidget;

namespace kvtier::ui {

class LayerLink : public QObject {
    Q_OBJECT
public:
    using QObject::QObject;
    int layer() const { return layer_; }
    int slotCount() const { return slots_; }
    // The trace's layer slots (1 for an aggregated trace); a new count shows all layers.
    void setSlots(int count);
    void setLayer(int layer);   // -1 or 0..slots-1; anything else is ignored
    // A selector ("all layers", "layer 0", ...) that follows and drives the link.
    QComboBox* makeSelector(QWidget* parent);

signals:
    void layerChanged(int layer);
    void slotsChanged(int count);

private:
    int layer_ = -1, slots_ = 1;
};

} // namespace kvtier::ui
