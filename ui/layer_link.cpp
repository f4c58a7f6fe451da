#include "ui/layer_link.hpp"

#include <QComboBox>

#include <algorithm>

namespace kvtier::ui {

void LayerLink::setSlots(int count)
{
    count = std::max(1, count);
    if (count == slots_)
        return;
    slots_ = count;
    emit slotsChanged(slots_);
    if (layer_ != -1) {
        layer_ = -1;
        emit layerChanged(layer_);
    }
}

void LayerLink::setLayer(int layer)
{
    if (layer < -1 || layer >= slots_ || (slots_ == 1 && layer != -1) || layer == layer_)
        return;
    layer_ = layer;
    emit layerChanged(layer_);
}

QComboBox* LayerLink::makeSelector(QWidget* parent)
{
    auto* combo = new QComboBox(parent);
    combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    combo->setObjectName(QStringLiteral("layerSelector"));
    auto fill = [this, combo] {
        const QSignalBlocker block(combo);
        combo->clear();
        if (slots_ <= 1) {
            combo->addItem(tr("all layers"), -1);
            combo->setEnabled(false);
            combo->setToolTip(tr("An aggregated trace: one record per step stands for every layer, so there is no layer to choose"));
        } else {
            combo->addItem(tr("all %1").arg(slots_), -1);
            for (int l = 0; l < slots_; ++l)
                combo->addItem(tr("layer %1").arg(l), l);
            combo->setEnabled(true);
            combo->setToolTip(tr("All layers: the heatmaps show the maximum over layers, Explain the mean layer; "
                                 "or one layer of this per-layer trace"));
        }
        combo->setCurrentIndex(std::max(0, combo->findData(layer_)));
    };
    fill();
    connect(this, &LayerLink::slotsChanged, combo, fill);
    connect(this, &LayerLink::layerChanged, combo, [combo](int layer) {
        const QSignalBlocker block(combo);
        combo->setCurrentIndex(std::max(0, combo->findData(layer)));
    });
    connect(combo, &QComboBox::currentIndexChanged, this, [this, combo] { setLayer(combo->currentData().toInt()); });
    return combo;
}

} // namespace kvtier::ui
