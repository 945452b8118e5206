from django.db import migrations, models

import dnsapi.dnssec
import dnsapi.models


def give_each_domain_a_key(apps, schema_editor):
    Domain = apps.get_model("dnsapi", "Domain")
    for domain in Domain.objects.filter(dnskey=""):
        domain.dnskey = dnsapi.dnssec.new_dnskey()
        domain.save(update_fields=["dnskey"])


class Migration(migrations.Migration):
    dependencies = [("dnsapi", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="domain",
            name="minimum_ttl",
            field=models.PositiveIntegerField(default=dnsapi.models.default_minimum_ttl),
        ),
        migrations.AddField(
            model_name="domain",
            name="dnskey",
            field=models.TextField(default="", editable=False),
            preserve_default=False,
        ),
        migrations.RunPython(give_each_domain_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="domain",
            name="dnskey",
            field=models.TextField(default=dnsapi.dnssec.new_dnskey, editable=False),
        ),
    ]
