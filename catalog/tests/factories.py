import factory

from catalog.models import CompatibleDevice, Destination, Package


class DestinationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Destination

    name = factory.Sequence(lambda n: f"Country {n}")
    code = factory.Sequence(lambda n: f"C{n}")
    slug = factory.Sequence(lambda n: f"country-{n}")
    upstream_id = factory.LazyAttribute(lambda d: f"{d.slug}-esims")
    geography = "local"
    region = "Asia"
    package_count = 1
    from_price_cents = 499


class PackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Package

    package_id = factory.Sequence(lambda n: f"esim-test-{n}days-1gb-all")
    destination = factory.SubFactory(DestinationFactory)
    name = "1 GB - 7 Days"
    days = 7
    data_mb = 1024
    activation = "first-use"
    wholesale_cents = 300
    retail_cents = 499
    price_per_gb_cents = 499
    upstream_hash = "x"


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompatibleDevice

    model = factory.Sequence(lambda n: f"Phone {n}")
    name = factory.LazyAttribute(lambda d: d.model)
    brand = "Acme"
    os = "android"
    device_type = "smartphone"
    search_text = factory.LazyAttribute(lambda d: f"{d.model} {d.name} {d.brand}".lower())
