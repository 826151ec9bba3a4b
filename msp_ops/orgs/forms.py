from django import forms


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, initial="API token", help_text="Where the key will live, e.g. 'PSA sync'."
    )
