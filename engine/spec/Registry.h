// The registry of components and workspace sections. Built-ins are registered explicitly by
// fedwb::registerBuiltins() (static-library self-registration would be dropped by the linker).
#pragma once

#include "spec/Schema.h"

#include <QMap>

namespace fedwb {

class Registry {
public:
    static Registry &global();

    void addComponent(ComponentSchema schema);
    void addSection(SectionSchema schema);

    const ComponentSchema *component(const QString &category, const QString &name) const;
    // The factory of a registered component, or null when the name is unknown or has no factory of type F.
    template <typename F> const F *factory(const QString &category, const QString &name) const {
        const ComponentSchema *c = component(category, name);
        return c ? std::any_cast<F>(&c->factory) : nullptr;
    }
    // The descriptor of a registered component, or null.
    template <typename T> const T *facts(const QString &category, const QString &name) const {
        const ComponentSchema *c = component(category, name);
        return c ? std::any_cast<T>(&c->facts) : nullptr;
    }
    QStringList componentNames(const QString &category) const;
    QStringList categories() const;
    const QList<SectionSchema> &sections() const { return m_sections; }
    const SectionSchema *section(const QString &key) const;

    // Every section and component with its parameters, as shown by `fedwb-cli schema --json`.
    QJsonObject toJson() const;
    // The same as a human-readable reference text.
    QString toText() const;

private:
    QList<SectionSchema> m_sections;
    QMap<QString, QList<ComponentSchema>> m_components; // category -> components in registration order
};

// Registers every built-in section and component once (thread-safe, idempotent).
void registerBuiltins();

} // namespace fedwb
