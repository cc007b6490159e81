# ruff: noqa: RUF001
"""Message catalogs: every sentence of every email, per language (placeholders in braces).

Keys are shared by all languages; a test checks that each catalog has them all.
"""

from __future__ import annotations

CATALOGS: dict[str, dict[str, str]] = {
    "en": {
        "greeting": "Hello,",
        "greeting_name": "Hello {name},",
        "registration.subject": "Activate your account for {title}",
        "registration.intro": "You can now access {title}, where you can follow and manage "
        "your support tickets. Set your password to activate your account:",
        "registration.action": "Activate my account",
        "password_reset.subject": "Reset your password for {title}",
        "password_reset.intro": "We received a request to reset the password of your account "
        "for {title}. Choose a new password here:",
        "password_reset.action": "Choose a new password",
        "password_changed.subject": "Your password for {title} was changed",
        "password_changed.intro": "The password of your account for {title} has just been changed.",
        "password_changed.warning": "If you did not change it, reset your password at once "
        "or contact the support team.",
        "expires": "The link works once and expires on {when}.",
        "copy_link": "If the button does not work, copy this address into your browser:",
        "ignore": "If you did not expect this email, you can safely ignore it.",
        "footer": "This message was sent automatically by {title}. Please do not reply.",
    },
    "pt-BR": {
        "greeting": "Olá,",
        "greeting_name": "Olá, {name},",
        "registration.subject": "Ative sua conta em {title}",
        "registration.intro": "Agora você tem acesso a {title}, onde pode acompanhar e "
        "gerenciar seus chamados de suporte. Defina sua senha para ativar sua conta:",
        "registration.action": "Ativar minha conta",
        "password_reset.subject": "Redefina sua senha de {title}",
        "password_reset.intro": "Recebemos uma solicitação para redefinir a senha da sua conta "
        "em {title}. Escolha uma nova senha aqui:",
        "password_reset.action": "Escolher uma nova senha",
        "password_changed.subject": "Sua senha de {title} foi alterada",
        "password_changed.intro": "A senha da sua conta em {title} acabou de ser alterada.",
        "password_changed.warning": "Se não foi você, redefina sua senha imediatamente ou "
        "entre em contato com a equipe de suporte.",
        "expires": "O link pode ser usado uma única vez e expira em {when}.",
        "copy_link": "Se o botão não funcionar, copie este endereço no seu navegador:",
        "ignore": "Se você não esperava este e-mail, pode ignorá-lo com segurança.",
        "footer": "Esta mensagem foi enviada automaticamente por {title}. Não responda.",
    },
    "es": {
        "greeting": "Hola:",
        "greeting_name": "Hola, {name}:",
        "registration.subject": "Activa tu cuenta de {title}",
        "registration.intro": "Ya puedes acceder a {title}, donde podrás seguir y gestionar "
        "tus tickets de soporte. Establece tu contraseña para activar tu cuenta:",
        "registration.action": "Activar mi cuenta",
        "password_reset.subject": "Restablece tu contraseña de {title}",
        "password_reset.intro": "Hemos recibido una solicitud para restablecer la contraseña "
        "de tu cuenta de {title}. Elige una nueva contraseña aquí:",
        "password_reset.action": "Elegir una nueva contraseña",
        "password_changed.subject": "Se ha cambiado tu contraseña de {title}",
        "password_changed.intro": "La contraseña de tu cuenta de {title} se acaba de cambiar.",
        "password_changed.warning": "Si no has sido tú, restablece tu contraseña de inmediato "
        "o ponte en contacto con el equipo de soporte.",
        "expires": "El enlace solo puede usarse una vez y caduca el {when}.",
        "copy_link": "Si el botón no funciona, copia esta dirección en tu navegador:",
        "ignore": "Si no esperabas este correo, puedes ignorarlo sin problema.",
        "footer": "{title} ha enviado este mensaje automáticamente. No respondas a él.",
    },
    "fr": {
        "greeting": "Bonjour,",
        "greeting_name": "Bonjour {name},",
        "registration.subject": "Activez votre compte sur {title}",
        "registration.intro": "Vous avez désormais accès à {title}, où vous pouvez suivre et "
        "gérer vos tickets d’assistance. Définissez votre mot de passe pour activer votre "
        "compte :",
        "registration.action": "Activer mon compte",
        "password_reset.subject": "Réinitialisez votre mot de passe sur {title}",
        "password_reset.intro": "Nous avons reçu une demande de réinitialisation du mot de "
        "passe de votre compte sur {title}. Choisissez un nouveau mot de passe ici :",
        "password_reset.action": "Choisir un nouveau mot de passe",
        "password_changed.subject": "Votre mot de passe sur {title} a été modifié",
        "password_changed.intro": "Le mot de passe de votre compte sur {title} vient d’être "
        "modifié.",
        "password_changed.warning": "Si vous n’êtes pas à l’origine de ce changement, "
        "réinitialisez immédiatement votre mot de passe ou contactez l’équipe d’assistance.",
        "expires": "Le lien n’est utilisable qu’une fois et expire le {when}.",
        "copy_link": "Si le bouton ne fonctionne pas, copiez cette adresse dans votre navigateur :",
        "ignore": "Si vous n’attendiez pas cet e-mail, vous pouvez l’ignorer.",
        "footer": "Ce message a été envoyé automatiquement par {title}. Merci de ne pas y "
        "répondre.",
    },
    "de": {
        "greeting": "Hallo,",
        "greeting_name": "Hallo {name},",
        "registration.subject": "Aktivieren Sie Ihr Konto für {title}",
        "registration.intro": "Sie haben jetzt Zugang zu {title}, wo Sie Ihre Support-Tickets "
        "verfolgen und verwalten können. Legen Sie Ihr Passwort fest, um Ihr Konto zu "
        "aktivieren:",
        "registration.action": "Konto aktivieren",
        "password_reset.subject": "Passwort für {title} zurücksetzen",
        "password_reset.intro": "Wir haben eine Anfrage erhalten, das Passwort Ihres Kontos "
        "für {title} zurückzusetzen. Wählen Sie hier ein neues Passwort:",
        "password_reset.action": "Neues Passwort wählen",
        "password_changed.subject": "Ihr Passwort für {title} wurde geändert",
        "password_changed.intro": "Das Passwort Ihres Kontos für {title} wurde soeben geändert.",
        "password_changed.warning": "Wenn Sie das nicht waren, setzen Sie Ihr Passwort sofort "
        "zurück oder wenden Sie sich an das Support-Team.",
        "expires": "Der Link funktioniert nur einmal und läuft am {when} ab.",
        "copy_link": "Falls die Schaltfläche nicht funktioniert, kopieren Sie diese Adresse in "
        "Ihren Browser:",
        "ignore": "Wenn Sie diese E-Mail nicht erwartet haben, können Sie sie ignorieren.",
        "footer": "Diese Nachricht wurde automatisch von {title} gesendet. Bitte antworten Sie "
        "nicht darauf.",
    },
}

LANGUAGES = tuple(CATALOGS)

BABEL_LOCALE = {"en": "en", "pt-BR": "pt_BR", "es": "es", "fr": "fr", "de": "de"}
"""Locale used to write dates in each language."""
